/**
 * A load generator for profiling one bench server by hand:
 * `node .bench-build/bench/server.js plain` in one shell, then `npx tsx bench/loadgen.ts PORT [mode] [seconds]`.
 */
import autocannon from 'autocannon';
import { requestsFor, type BenchMode } from './requests';

const port = Number(process.argv[2]);
const mode = (process.argv[3] ?? 'plain') as BenchMode;
const seconds = Number(process.argv[4] ?? 6);
const nextRequest = requestsFor(mode);
autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: 50,
  duration: seconds,
  requests: [
    {
      method: 'POST',
      setupRequest: (r) => {
        const x = nextRequest();
        return { ...r, path: x.path, body: x.body, headers: { 'content-type': 'text/xml' } };
      },
    },
  ],
}).then((r) => console.log(`req/s ${r.requests.average} p50 ${r.latency.p50} p99 ${r.latency.p99} non2xx ${r.non2xx}`));
