import { startAllSimulators } from "./index.ts";

/**
 * `npm run simulators`: every provider simulator on loopback, on fixed ports from SIM_PORT_BASE
 * (default 8180: github +1, gitlab +2, jira +3, linear +4, azure_devops +5), with
 * SIM_GENERATED_RESOURCES filler resources per default workspace.
 */
const base = Number(process.env.SIM_PORT_BASE ?? 8180);
const generated = process.env.SIM_GENERATED_RESOURCES
  ? Number(process.env.SIM_GENERATED_RESOURCES)
  : undefined;
const { simulators, close } = await startAllSimulators({
  ports: { github: base + 1, gitlab: base + 2, jira: base + 3, linear: base + 4, azure_devops: base + 5 },
  generatedResources: generated,
});
for (const [provider, sim] of Object.entries(simulators)) {
  console.log(`${provider.padEnd(13)} ${sim.url}   control: ${sim.url}/_sim/state`);
  console.log(`${" ".repeat(14)}demo facts: ${Object.keys(sim.demo).join(", ")}`);
}
console.log("Press Ctrl+C to stop.");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await close();
    process.exit(0);
  });
}
