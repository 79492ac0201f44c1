/** Real source packages for tests, built by dpkg-source as a maintainer would (Node only). */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Run a command in `cwd`, its output in English; throws with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Build a source package of `format` with dpkg-source; returns the directory and the .dsc name. */
export function buildSource(
  parent: string,
  name: string,
  version: string,
  format: string,
): { dir: string; dsc: string } {
  const dir = mkdtempSync(join(parent, `${name}-`));
  const upstream = version.replace(/-[^-]*$/, "");
  const tree = join(dir, `${name}-${upstream}`);
  mkdirSync(join(tree, "debian", "source"), { recursive: true });
  writeFileSync(join(tree, "README"), `${name} ${version}\n`);
  writeFileSync(
    join(tree, "debian", "control"),
    `Source: ${name}\nSection: utils\nPriority: optional\nMaintainer: Armor Tests <tests@armor.invalid>\nBuild-Depends: debhelper-compat (= 13)\nStandards-Version: 4.6.2\nHomepage: https://example.invalid/${name}\nVcs-Git: https://example.invalid/${name}.git\nX-Custom-Field: kept as written\n\nPackage: ${name}\nArchitecture: any\nDescription: test source ${name}\n Built by Armor's tests.\n`,
  );
  writeFileSync(
    join(tree, "debian", "changelog"),
    `${name} (${version}) unstable; urgency=low\n\n  * Test.\n\n -- Armor Tests <tests@armor.invalid>  Sun, 06 Dec 2026 00:00:00 +0000\n`,
  );
  writeFileSync(join(tree, "debian", "rules"), "#!/usr/bin/make -f\n%:\n\tdh $@\n", { mode: 0o755 });
  writeFileSync(join(tree, "debian", "source", "format"), `${format}\n`);
  if (format !== "3.0 (native)") {
    run("tar", ["czf", `${name}_${upstream}.orig.tar.gz`, "--exclude=debian", `${name}-${upstream}`], dir);
  }
  run("dpkg-source", ["-b", `${name}-${upstream}`], dir);
  return { dir, dsc: `${name}_${version}.dsc` };
}
