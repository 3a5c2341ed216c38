// Single-record POSTs at a fixed offered rate with autocannon (pinned in package-lock.json
// here), for bench/serve.py: --rate requests a second for --seconds, each body a distinct
// transaction_id (autocannon's idReplacement turns `[<id>]` into a unique id).
//
//   LOAD_TOKEN=... node offered_load.mjs --url http://127.0.0.1:8080 --rate 200 --seconds 5 \
//     --summary out.json
//
// How autocannon paces (node_modules/autocannon/lib/httpClient.js, lib/run.js): `overallRate`
// is split over the connections (lib/run.js distributeNums); each connection may send its
// share within a 1 s window that a per-connection setInterval resets, and sends its next
// request only after the previous answer (pipelining 1). So each connection here gets a rate
// of 1 a second (connections = rate): no request waits for an earlier answer unless that
// answer took more than 1 s. The windows of the connections of one autocannon instance start
// together, so one instance would send the whole second's requests in one burst; instead
// min(rate, --slices) instances are started 1/slices s apart, each with its share of the
// connections, and merged with autocannon.aggregateResult. `amount` = connections x seconds
// (each connection sends exactly --seconds requests, one a second) instead of `duration`,
// whose stop drops the requests still in flight uncounted.
import { writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    path: { type: 'string', default: '/v1/transactions' },
    rate: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    slices: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '60' },
    label: { type: 'string', default: 'L' },
    summary: { type: 'string' }
  }
})
if (!opts.url || !opts.rate) {
  console.error('usage: LOAD_TOKEN=... node offered_load.mjs --url URL --rate N [--seconds S] ' +
    '[--slices N] [--timeout S] [--label TEXT] [--summary PATH]')
  process.exit(2)
}
const rate = Number(opts.rate)
const seconds = Number(opts.seconds)
if (!Number.isInteger(rate) || rate < 1 || !Number.isInteger(seconds) || seconds < 1) {
  console.error('--rate and --seconds must be positive integers')
  process.exit(2)
}
const slices = Math.min(rate, Number(opts.slices))
const body = JSON.stringify({ transaction_id: `${opts.label}${rate}-[<id>]`, amount: '1.00' })

let firstRequest = null
let lastAnswer = null

function slice (index) {
  const connections = Math.floor(rate / slices) + (index < rate % slices ? 1 : 0)
  const instance = autocannon({
    url: new URL(opts.path, opts.url).href, // a top-level `path` is not used: the URL's is
    method: 'POST',
    headers: {
      authorization: `Bearer ${process.env.LOAD_TOKEN ?? ''}`,
      'content-type': 'application/json'
    },
    body,
    idReplacement: true,
    connections,
    overallRate: connections,
    amount: connections * seconds,
    timeout: Number(opts.timeout),
    // autocannon's correction for coordinated omission records, for each answer of L ms,
    // extra samples at L-1, L-2, ... 1 ms: it takes ceil(1 / rate) = 1 as the expected interval
    // in ms (lib/run.js) where a rate of 1 a second means 1000 ms. Off; a connection whose
    // answer takes over 1 s sends late instead, which `requests_sent_per_second` shows.
    ignoreCoordinatedOmission: true,
    excludeErrorStats: true, // latency of the 2xx answers only
    skipAggregateResult: true
  })
  instance.on('response', () => { lastAnswer = performance.now() })
  return instance
}

const cpuBefore = process.cpuUsage()
const begin = performance.now()
const runs = []
for (let index = 0; index < slices; index++) {
  const wait = begin + (index * 1000) / slices - performance.now()
  if (wait > 0) await sleep(wait)
  firstRequest ??= performance.now()
  runs.push(slice(index))
}
const results = await Promise.all(runs)
const cpu = process.cpuUsage(cpuBefore)
const result = autocannon.aggregateResult(results, { url: opts.url, connections: rate })

const sent = result.requests.sent
const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx']
const elapsed = lastAnswer === null ? null : (lastAnswer - firstRequest) / 1000
const summary = {
  tool: 'autocannon',
  offered_per_second: rate,
  seconds,
  slices,
  connections: rate,
  requests_sent: sent,
  answered,
  status_2xx: result['2xx'],
  non_2xx: result.non2xx,
  errors: result.errors, // autocannon: connection errors, timeouts included
  timeouts: result.timeouts,
  // first request to last answer, measured here
  elapsed_seconds: elapsed,
  // 2xx answers over the offered --seconds, or over the elapsed time when answers came later
  answered_2xx_per_second: result['2xx'] / Math.max(seconds, elapsed ?? 0),
  latency_ms: {
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    samples: result.latency.totalCount
  },
  cpu_seconds_during_load: (cpu.user + cpu.system) / 1e6,
  status_codes: result.statusCodeStats
}
const line = JSON.stringify(summary)
console.log(line)
if (opts.summary) writeFileSync(opts.summary, line + '\n')
