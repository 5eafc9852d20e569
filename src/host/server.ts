import { loadConfig } from "./config.ts";
import { startService } from "./service.ts";

const service = await startService(loadConfig());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await service.close();
    process.exit(0);
  });
}
