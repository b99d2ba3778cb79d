// Issue 13's finishing options in the Advanced panel. They shape the written file (group
// "output") yet belong with the refinement controls: the server bakes a feathered edge and a
// shadow into the cut-out's alpha (a shadow is semi-transparent black), and the page lays that
// over its background as it does any cut-out. /v1/remove takes them, /v1/mask does not, so
// they show in server mode only (the panel already filters by the mode's endpoint).

export const FINISHING = new Set(["feather", "shadow", "shadow_offset", "shadow_blur",
  "shadow_opacity"]);

// Does `option` (one entry of GET /v1/options) get a control in the Advanced panel?
export function inAdvanced(option) {
  return option.group === "refine" || FINISHING.has(option.name);
}
