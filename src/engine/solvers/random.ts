// Seeded randomness for start vectors: the same seed gives the same vector on every run and
// machine, so an estimate can be reproduced exactly. Not for cryptography.

/** A uniform generator on [0, 1): mulberry32, a 32-bit state PRNG that is small and fast. */
export function createUniformRandom(seed: number): () => number {
  // Mix the seed once so that nearby seeds (0, 1, 2, ...) do not give correlated first draws.
  let state = mixSeed(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by the Box–Muller transform on a seeded uniform generator. */
export function createGaussianRandom(seed: number): () => number {
  const uniform = createUniformRandom(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** `length` independent standard normal values, deterministic in `seed`. */
export function gaussianArray(length: number, seed: number): Float32Array {
  const next = createGaussianRandom(seed);
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = next();
  return values;
}

function mixSeed(seed: number): number {
  // Accept any finite number: fold fractional and large seeds into 32 bits, then scramble
  // (the finaliser of MurmurHash3).
  let h = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
