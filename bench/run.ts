/**
 * `npm run bench`: every benchmark, each reporting ratios against a baseline measured in the same run.
 * Results are recorded in docs/performance.md with this command. Never a timed assertion in tests.
 */
const benches: Record<string, () => Promise<{ run(): Promise<string> }>> = {
  "cli-reads": () => import("./cli-reads.ts"),
  "discover-github": () => import("./discover-github.ts"),
  "cli-resources": () => import("./cli-resources.ts"),
  "bind-resolve": () => import("./bind-resolve.ts"),
  "refresh-memory": () => import("./refresh-memory.ts"),
  "webhook-latency": () => import("./webhook-latency.ts"),
  "snapshot-change": () => import("./snapshot-change.ts"),
  "many-teams": () => import("./many-teams.ts"),
  processes: () => import("./processes.ts"),
};

const only = process.argv.slice(2);
for (const [name, loader] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n### ${name}\n`);
  console.log(await (await loader()).run());
}
