/** A command that waits on retries says on stderr what it retries, why, and how long it waits. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, it } from "vitest";
import { armor } from "./armor.ts";

let server: Server;
let endpoint: string;
let failures = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: { code: "unavailable", message: "access control is unavailable right now" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ releases: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("retries", () => {
  it("are announced on stderr with the server's reason, and the command then succeeds", async ({ expect }) => {
    failures = 2;
    const r = await armor(["release", "list", "--repository", "acme/tools", "--json"], {
      ARMOR_ENDPOINT: endpoint,
      ARMOR_TOKEN: "t",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ releases: [] });
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) {
      expect(line).toMatch(
        new RegExp(
          `^armor: GET /api/v1/repositories/acme/tools/releases: HTTP 503 unavailable \\(access control is unavailable right now\\); retrying in 1\\.\\d s \\(attempt ${i + 2} of 4\\)$`,
        ),
      );
    }
  });
});
