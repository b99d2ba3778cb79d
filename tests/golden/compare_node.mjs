// node tests/golden/compare_node.mjs: the same check as the browser test, without a browser.
import { readFileSync } from "node:fs";
import * as imaging from "../../src/alphacut/interfaces/server/static/imaging.js";

const here = new URL(".", import.meta.url);
const golden = JSON.parse(readFileSync(new URL("vectors.json", here), "utf-8"));
const compare = eval(readFileSync(new URL("compare.js", here), "utf-8").replace(/^\/\/.*$/gm, ""));
console.log(await compare(imaging, golden));
