// A compute worker: solves the linear problems a session's pool (src/host/compute-pool.ts) sends,
// one at a time on its own wasm instance, so that several layers run on several cores.

import { parentPort, workerData } from 'node:worker_threads';
import { CancelledError } from '../engine/operator';
import { solveLinearProblem } from '../engine/solve-layer';
import type { ComputeReply, ComputeTask, ComputeWorkerData } from '../host/compute-protocol';
import { startBackend } from '../host/start-backend';

const port = parentPort;
if (!port) throw new Error('the Lipschitz Lens compute worker must run in a worker thread');

const flag = new Int32Array((workerData as ComputeWorkerData).cancelFlag);
const shouldStop = () => Atomics.load(flag, 0) !== 0;
const ready = startBackend();

port.on('message', async (task: ComputeTask) => {
  let reply: ComputeReply;
  try {
    await ready;
    reply = { id: task.id, outcome: solveLinearProblem(task.problem, task.settings, shouldStop) };
  } catch (error) {
    reply = error instanceof CancelledError
      ? { id: task.id, cancelled: true }
      : { id: task.id, error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
  port.postMessage(reply);
});
