/** What the sidecar's middleware puts on the Hono context. */
import type { Caller } from "./access.ts";

export type SidecarEnv = { Variables: { caller: Caller } };
