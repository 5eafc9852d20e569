// Load with headers that vary per request (`loadVaried()` in support.ts): autocannon's programmatic API,
// in its own process, so the client's work stays off the server's event loop. The spec arrives on stdin;
// the result goes to stdout as autocannon's JSON.
import autocannon from "autocannon";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const spec = JSON.parse(input);
const sets = spec.headerSets;
const result = await autocannon({
  url: spec.url,
  connections: spec.concurrency,
  duration: spec.seconds,
  timeout: spec.timeoutSeconds,
  requests: [
    {
      method: spec.method,
      body: spec.body,
      // A random set per request (e.g. another team's token and slug), chosen when the request is built.
      setupRequest: (req) => ({
        ...req,
        headers: { ...spec.headers, ...sets[Math.floor(Math.random() * sets.length)] },
      }),
    },
  ],
});
process.stdout.write(JSON.stringify(result));
