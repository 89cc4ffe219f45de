// Topological order of a graph's nodes by the values they read and write (Kahn's algorithm), shared
// by the ONNX and TF.js graph readers. Ties keep the file's order, depth first: a node runs as soon
// as what it reads is there, so a chain stays together in the table.

export interface OrderNode {
  /** Values the node reads (empty names are skipped). */
  readonly inputs: readonly string[];
  /** Values the node writes (empty names are skipped). */
  readonly outputs: readonly string[];
}

export interface OrderProblems {
  /** A value written twice (by two nodes, or by a node and as a graph input). */
  producedTwice(value: string): string;
  /** Node `index` reads `value`, which nothing provides. */
  dangling(index: number, value: string): string;
  /** Node `index` sits on a cycle. */
  cycle(index: number): string;
}

export class GraphOrderError extends Error {}

/** Node indices in dependency order; `known` values are there from the start (inputs, constants). */
export function topologicalOrder(nodes: readonly OrderNode[], known: (value: string) => boolean, problems: OrderProblems): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const output of node.outputs) {
      if (!output) continue;
      if (producer.has(output) || known(output)) throw new GraphOrderError(problems.producedTwice(output));
      producer.set(output, i);
    }
  });
  const pending = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    for (const input of new Set(node.inputs)) {
      if (!input) continue;
      const p = producer.get(input);
      if (p === undefined) {
        if (!known(input)) throw new GraphOrderError(problems.dangling(i, input));
        continue;
      }
      pending[i]++;
      consumers[p].push(i);
    }
  });
  const order: number[] = [];
  const queue = nodes.map((_, i) => i).filter((i) => pending[i] === 0).reverse();
  while (queue.length > 0) {
    const i = queue.pop() as number;
    order.push(i);
    const released: number[] = [];
    for (const c of consumers[i]) if (--pending[c] === 0) released.push(c);
    queue.push(...released.sort((a, b) => b - a));
  }
  if (order.length !== nodes.length) throw new GraphOrderError(problems.cycle(nodes.findIndex((_, i) => pending[i] > 0)));
  return order;
}
