// The "noisy" BatchNorm of Santurkar et al. (Sec. 2.1, Algorithm 1): after each BatchNorm, every normalized
// activation a_{i,j} becomes s_{i,j}·a_{i,j} + m_{i,j}, where per unit j and step t
//   μ_j ~ U(−n_μ, n_μ),  σ_j ~ U(1, n_σ)                       (the time-varying distribution D_j^t)
// and per sample i (for conv layers: per sample and spatial position) and unit j
//   m_{i,j} ~ U(μ_j − r_μ, μ_j + r_μ),  s_{i,j} ~ N(σ_j, r_σ).
// Drawn once per step and reused by all of that step's probes, so the landscape is fixed within a step.

import type { Rng } from './rng';

export const NOISE = { nMu: 0.5, nSigma: 1.25, rMu: 0.1, rSigma: 0.1 } as const;

export interface NoiseDraw {
  scale: Float32Array;
  shift: Float32Array;
}

/** Noise for one layer output of shape [batch, ...spatial, units] (flat, row-major, units last). */
export function drawNoise(rng: Rng, count: number, units: number): NoiseDraw {
  const mu = new Float64Array(units);
  const sigma = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    mu[j] = rng.range(-NOISE.nMu, NOISE.nMu);
    sigma[j] = rng.range(1, NOISE.nSigma);
  }
  const scale = new Float32Array(count * units);
  const shift = new Float32Array(count * units);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < units; j++) {
      const k = i * units + j;
      shift[k] = rng.range(mu[j] - NOISE.rMu, mu[j] + NOISE.rMu);
      scale[k] = sigma[j] + NOISE.rSigma * rng.normal();
    }
  }
  return { scale, shift };
}
