/**
 * Entry point of a GPU worker process (forked by src/gpu/worker/device.ts): opens one GpuContext
 * with the options in WEBRECON_WORKER_CONFIG (the GPU it sees is whatever its environment makes
 * visible), says 'ready' with the adapter's description, then serves calls to its services one
 * after another until told to shut down or until the parent goes away.
 */
import { GpuContext } from '../context.js';
import { CONFIG_ENV, serializeError, TEST_EXIT_CODE, TEST_EXIT_ENV, type ParentMessage, type WorkerConfig, type WorkerMessage } from './protocol.js';
import type { ServiceTable } from './services.js';
import { tomoServices } from './tomo-services.js';
import { ptychoServices } from './ptycho-services.js';

const services: ServiceTable = { ...tomoServices, ...ptychoServices };

/** Set by the test hook: nothing more is sent, the process is about to exit. */
let dying = false;

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (dying) return; // never resolves: the process exits first
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  if (!process.send) {
    console.error('webrecon GPU worker: start me through the device pool (child_process.fork with an IPC channel), not by hand');
    process.exit(2);
  }
  let config: WorkerConfig;
  try {
    config = JSON.parse(process.env[CONFIG_ENV] ?? '') as WorkerConfig;
  } catch (err) {
    await send({ type: 'start-failed', error: serializeError(new Error(`${CONFIG_ENV} is missing or not JSON`)) });
    process.exit(2);
  }
  let ctx: GpuContext;
  try {
    ctx = await GpuContext.acquire(config.gpu);
  } catch (err) {
    await send({ type: 'start-failed', error: serializeError(err) });
    process.exit(3);
  }
  const exitAfter = Number(process.env[TEST_EXIT_ENV] ?? 0);
  let progressSent = 0;

  // Calls run one at a time, in arrival order.
  let chain = Promise.resolve();
  const serve = async (id: number, service: string, payload: unknown): Promise<void> => {
    const fn = services[service];
    try {
      if (!fn) throw new Error(`unknown service '${service}' (known: ${Object.keys(services).join(', ')})`);
      const result = await fn(ctx, payload as never, (event) => {
        const sent = send({ type: 'progress', id, event });
        if (exitAfter > 0 && ++progressSent === exitAfter) {
          dying = true;
          void sent.then(() => process.exit(TEST_EXIT_CODE));
        }
      });
      await send({ type: 'result', id, result });
    } catch (err) {
      await send({ type: 'error', id, error: serializeError(err) });
    }
  };
  const shutdown = (code: number) => {
    chain = chain.then(() => {
      ctx.destroy();
      process.exit(code);
    });
  };
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'shutdown') shutdown(0);
    else if (msg.type === 'call') chain = chain.then(() => serve(msg.id, msg.service, msg.payload));
  });
  // The parent went away (exited or crashed): nothing left to serve.
  process.on('disconnect', () => {
    ctx.destroy();
    process.exit(0);
  });
  await send({ type: 'ready', info: ctx.info, pid: process.pid });
}

void main();
