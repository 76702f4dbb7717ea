/**
 * The worker thread's program, as plain JavaScript evaluated by `new Worker(code, { eval: true })`.
 * A string (not a module file) so the same code runs from the compiled package and from the
 * TypeScript sources under test. It owns one onnxruntime session and answers run/dispose messages;
 * output buffers are transferred back, not copied, when onnxruntime lets them be detached.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);

function metadata(list) {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: Array.from(m.shape) } : { name: m.name, shape: [] }));
}

async function open(opts) {
  return workerData.path !== undefined ? ort.InferenceSession.create(workerData.path, opts) : ort.InferenceSession.create(workerData.bytes, opts);
}

async function create() {
  const providers = workerData.providers;
  try {
    return { session: await open(workerData.sessionOptions), providers, fallbackReason: workerData.fallbackReason };
  } catch (error) {
    if (providers.length > 1) {
      try {
        const reason = 'onnxruntime could not create the session with ' + providers.join(', ') + ': ' + error.message + '; using cpu';
        return { session: await open(workerData.cpuSessionOptions), providers: ['cpu'], fallbackReason: [workerData.fallbackReason, reason].filter(Boolean).join('; ') };
      } catch {}
    }
    throw error;
  }
}

function post(message, transfer) {
  try {
    parentPort.postMessage(message, transfer);
  } catch {
    parentPort.postMessage(message);
  }
}

let session;
let staticFeeds = {};
create().then(
  (made) => {
    session = made.session;
    parentPort.postMessage({ type: 'ready', providers: made.providers, fallbackReason: made.fallbackReason,
      inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata) });
  },
  (error) => parentPort.postMessage({ type: 'failed', error: String(error && error.message ? error.message : error) }),
);

parentPort.on('message', async (msg) => {
  if (msg.type === 'dispose') {
    try { if (session) await session.release(); } catch {}
    parentPort.postMessage({ id: msg.id, ok: true, result: {} });
    return;
  }
  if (msg.type === 'static') {
    staticFeeds = {};
    for (const name of Object.keys(msg.feeds)) {
      const t = msg.feeds[name];
      staticFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    parentPort.postMessage({ id: msg.id, ok: true, result: {} });
    return;
  }
  try {
    const feeds = Object.assign({}, staticFeeds);
    for (const name of Object.keys(msg.feeds)) {
      const t = msg.feeds[name];
      feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    const out = msg.outputNames ? await session.run(feeds, msg.outputNames) : await session.run(feeds);
    const result = {};
    const transfer = [];
    for (const name of Object.keys(out)) {
      const t = out[name];
      result[name] = { type: t.type, data: t.data, dims: Array.from(t.dims) };
      const buf = t.data && t.data.buffer;
      if (buf instanceof ArrayBuffer && !transfer.includes(buf)) transfer.push(buf);
    }
    post({ id: msg.id, ok: true, result }, transfer);
  } catch (error) {
    parentPort.postMessage({ id: msg.id, ok: false, error: String(error && error.message ? error.message : error) });
  }
});
`;
