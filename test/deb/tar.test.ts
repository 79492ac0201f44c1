import { describe, it } from "vitest";
import { DebFormatError } from "../../deb/errors.ts";
import { readTar, writeTar } from "../../deb/tar.ts";

const enc = new TextEncoder();

/** A pax extended header ('x') block followed by its records, as GNU tar --format=pax writes it. */
function paxEntry(records: string): Uint8Array {
  const data = enc.encode(records);
  const tar = writeTar([{ name: "./PaxHeaders/x", data }]);
  tar[156] = "x".charCodeAt(0);
  // Recompute the header checksum after changing the type flag.
  tar.fill(0x20, 148, 156);
  const sum = tar.subarray(0, 512).reduce((n, b) => n + b, 0);
  tar.set(enc.encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
  return tar.subarray(0, 512 + Math.ceil(data.length / 512) * 512);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = enc.encode(body).length + 1;
  while (String(len).length + enc.encode(body).length !== len) len++;
  return `${len}${body}`;
}

describe("readTar", () => {
  it("round-trips what writeTar writes, with ./ stripped", ({ expect }) => {
    const tar = writeTar([{ name: "./" }, { name: "./control", data: enc.encode("Package: x\n") }]);
    const entries = readTar(tar);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["", "5"],
      ["control", "0"],
    ]);
    expect(new TextDecoder().decode(entries[1]?.data)).toBe("Package: x\n");
  });

  it("honours a pax path record with non-ASCII bytes (record lengths count bytes)", ({ expect }) => {
    const pax = paxEntry(`${paxRecord("comment", "café 日本")}${paxRecord("path", "./control")}`);
    const file = writeTar([{ name: "./renamed-by-pax", data: enc.encode("Package: y\n") }]);
    const entries = readTar(new Uint8Array([...pax, ...file]));
    expect(entries.map((e) => e.name)).toEqual(["control"]);
  });

  it("refuses a pax record whose length is wrong", ({ expect }) => {
    const pax = paxEntry("99 path=./control\n");
    expect(() => readTar(new Uint8Array([...pax, ...writeTar([])]))).toThrow(DebFormatError);
  });
});
