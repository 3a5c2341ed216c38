// POST every line of some NDJSON files to `workbench serve` exactly once, in requests of
// --batch lines, over --connections keep-alive connections, with autocannon (pinned in
// package-lock.json here). Used by bench/serve.py and tests/serve/test_load_driver.py.
//
//   LOAD_TOKEN=... node post_batches.mjs --url http://127.0.0.1:8080 --batch 1000 \
//     --connections 4 --summary out.json FILE...
//
// autocannon is given `amount` = the number of batches (each connection sends its share, then
// stops) and one request whose setupRequest hands every request the next batch; onResponse
// adds up the `records` of each 202. One JSON summary line goes to stdout and to --summary.
// Exit status 1 when any answer was not a 202, any request failed (connection error or
// timeout) or the acknowledged records differ from the lines sent.
import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'

const { values: opts, positionals: files } = parseArgs({
  options: {
    url: { type: 'string' },
    path: { type: 'string', default: '/v1/transactions' },
    batch: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '4' },
    timeout: { type: 'string', default: '120' },
    summary: { type: 'string' }
  },
  allowPositionals: true
})
if (!opts.url || files.length === 0) {
  console.error('usage: LOAD_TOKEN=... node post_batches.mjs --url URL [--batch N] ' +
    '[--connections N] [--timeout S] [--summary PATH] FILE...')
  process.exit(2)
}
const batchSize = Number(opts.batch)
const NEWLINE = 0x0a

// Lines of a file (the last one may lack its newline), counted as `lines` does in Python.
function lineCount (data) {
  let count = 0
  for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE, at + 1)) count++
  return count + (data.length > 0 && data[data.length - 1] !== NEWLINE ? 1 : 0)
}

// The batches in file order, each file read when its first batch is asked for; a batch never
// spans two files (each file's last batch may be short), every line ends with a newline.
function * batches () {
  for (const file of files) {
    const data = readFileSync(file)
    let start = 0
    let lines = 0
    let at = 0
    while (at < data.length) {
      const newline = data.indexOf(NEWLINE, at)
      at = newline === -1 ? data.length : newline + 1
      lines++
      if (lines === batchSize || at === data.length) {
        let body = data.subarray(start, at)
        if (body[body.length - 1] !== NEWLINE) body = Buffer.concat([body, Buffer.from('\n')])
        yield { body, lines }
        start = at
        lines = 0
      }
    }
  }
}

// A first pass for autocannon's `amount` (outside the timed part).
let amount = 0
let linesInFiles = 0
for (const file of files) {
  const lines = lineCount(readFileSync(file))
  linesInFiles += lines
  amount += Math.ceil(lines / batchSize)
}
const connections = Math.min(Number(opts.connections), amount)

const pending = batches()
let linesSent = 0
let acknowledged = 0
let rejectedInAnswers = 0
let accepted = 0
let notAccepted = 0
const firstFailures = []
let lastAnswer = null

function setupRequest (request) {
  const next = pending.next()
  if (next.done) throw new Error(`setupRequest asked for more than the ${amount} batches`)
  linesSent += next.value.lines
  request.body = next.value.body
  return request
}

function onResponse (status, body) {
  lastAnswer = performance.now()
  if (status === 202) {
    const answer = JSON.parse(body)
    accepted++
    acknowledged += answer.records
    rejectedInAnswers += answer.errors
  } else {
    notAccepted++
    if (firstFailures.length < 5) firstFailures.push({ status, body: body.slice(0, 300) })
  }
}

const cpuBefore = process.cpuUsage()
const begin = performance.now()
const result = await autocannon({
  url: opts.url,
  connections,
  amount,
  timeout: Number(opts.timeout),
  requests: [{
    method: 'POST',
    path: opts.path,
    headers: {
      authorization: `Bearer ${process.env.LOAD_TOKEN ?? ''}`,
      'content-type': 'application/x-ndjson'
    },
    setupRequest,
    onResponse
  }]
})
const cpu = process.cpuUsage(cpuBefore)

const summary = {
  tool: 'autocannon',
  files: files.length,
  lines_in_files: linesInFiles,
  lines_sent: linesSent,
  batches: amount,
  connections,
  requests_sent: result.requests.sent,
  answered: accepted + notAccepted,
  status_202: accepted,
  non_202: notAccepted,
  non_2xx: result.non2xx,
  errors: result.errors, // autocannon: connection errors, timeouts included
  timeouts: result.timeouts,
  records_acknowledged: acknowledged,
  records_rejected: rejectedInAnswers,
  // from the first request written to the last answer read, measured here (autocannon's own
  // `duration` also counts up to one sampleInt, 1 s, of waiting after the last answer)
  seconds: lastAnswer === null ? null : (lastAnswer - begin) / 1000,
  autocannon_duration_seconds: result.duration,
  latency_ms: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  cpu_seconds_during_load: (cpu.user + cpu.system) / 1e6,
  failures: firstFailures
}
const line = JSON.stringify(summary)
console.log(line)
if (opts.summary) writeFileSync(opts.summary, line + '\n')
const ok = notAccepted === 0 && result.errors === 0 && result.non2xx === 0 &&
  accepted === amount && linesSent === linesInFiles && acknowledged === linesSent
process.exit(ok ? 0 : 1)
