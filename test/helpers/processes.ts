/** Collect what a child process prints and how it ends: the one way Node tests wait for a command. */
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

export function finished(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
