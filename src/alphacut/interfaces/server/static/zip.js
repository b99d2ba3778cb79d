// A ZIP archive (method 0: stored, UTF-8 names) built in the page: no library, no server.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function dosTime(d) {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

// The same name twice gets -2, -3... before its extension.
export function uniqueNames(names) {
  const seen = new Map();
  return names.map((name) => {
    const count = seen.get(name) || 0;
    seen.set(name, count + 1);
    return count ? name.replace(/(\.[^.]+)?$/, `-${count + 1}$1`) : name;
  });
}

function localHeader(name, data, crc, time, date) {
  const v = new DataView(new ArrayBuffer(30));
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, 20, true);
  v.setUint16(6, 0x0800, true);
  v.setUint16(10, time, true);
  v.setUint16(12, date, true);
  v.setUint32(14, crc, true);
  v.setUint32(18, data.length, true);
  v.setUint32(22, data.length, true);
  v.setUint16(26, name.length, true);
  return v;
}

function centralHeader(name, data, crc, time, date, offset) {
  const v = new DataView(new ArrayBuffer(46));
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, 20, true);
  v.setUint16(6, 20, true);
  v.setUint16(8, 0x0800, true);
  v.setUint16(12, time, true);
  v.setUint16(14, date, true);
  v.setUint32(16, crc, true);
  v.setUint32(20, data.length, true);
  v.setUint32(24, data.length, true);
  v.setUint16(28, name.length, true);
  v.setUint32(42, offset, true);
  return v;
}

// [{name, blob}] -> Blob of a ZIP archive.
export async function makeZip(entries) {
  const enc = new TextEncoder();
  const { time, date } = dosTime(new Date());
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const entry of entries) {
    const data = new Uint8Array(await entry.blob.arrayBuffer());
    const name = enc.encode(entry.name);
    const crc = crc32(data);
    chunks.push(localHeader(name, data, crc, time, date), name, data);
    central.push(centralHeader(name, data, crc, time, date, offset), name);
    offset += 30 + name.length + data.length;
    if (offset > 0xffffffff) throw new Error("zip over 4 GB: download the images one by one");
  }
  const size = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...chunks, ...central, end], { type: "application/zip" });
}

// Save `blob` as `name` through a temporary link.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
