// Before the NumPy peer's time means anything, the peer must compute the same numbers: this feeds it the
// engine's weights and batch of one variant, runs one probed step on both sides and compares the loss and β
// (and ℓ(η), d(η)). The bench does it before timing a workload against the peer; a unit test does it too.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerNode } from '../../engine/network/ir';
import { initialWeights, paramKey } from '../../engine/network/load';
import { disposeFirst, lossAndGradsForProbe, type ProbeSetup } from '../../engine/probes/lossAndGrads';
import { probeAlongGradient } from '../../engine/probes/gradientProbe';
import { paramTensors } from '../../engine/tensors';
import { peerScript } from './peer';
import type { VariantBench } from './workloads';

/** One layer as the peer knows it (bench/peer/numpy_probe.py LAYERS), with its parameters' roles. */
interface PeerLayer {
  kind: 'dense' | 'conv' | 'pool' | 'bn' | 'relu' | 'flatten';
  /** The engine's layer whose parameters these are. */
  layer?: string;
  roles?: string[];
}

/** The variant's layers in the peer's vocabulary; throws naming the first layer the peer cannot run. */
export function peerLayers(layers: LayerNode[], output: string): PeerLayer[] {
  const out: PeerLayer[] = [];
  const unsupported = (l: LayerNode, why: string) => new Error(`the NumPy peer cannot run layer '${l.name}' (${l.kind}): ${why}`);
  const activation = (l: LayerNode, a: string) => {
    if (a === 'relu') out.push({ kind: 'relu' });
    else if (!(a === 'linear' || (a === 'softmax' && l.name === output))) throw unsupported(l, `activation ${a}`);
  };
  for (const l of layers) {
    switch (l.kind) {
      case 'input':
      case 'dropout':
        break;
      case 'dense':
        out.push({ kind: 'dense', layer: l.name, roles: l.useBias ? ['kernel', 'bias'] : ['kernel'] });
        activation(l, l.activation);
        break;
      case 'conv2d':
        if (l.padding !== 'same' || l.strides.some((s) => s !== 1) || l.dilation.some((d) => d !== 1) || l.kernelSize.some((k) => k % 2 === 0)) throw unsupported(l, 'only odd kernels with stride 1 and same padding');
        out.push({ kind: 'conv', layer: l.name, roles: l.useBias ? ['kernel', 'bias'] : ['kernel'] });
        activation(l, l.activation);
        break;
      case 'batchnorm':
        if (l.epsilon !== 1e-3 || !l.center || !l.scale || l.noisy) throw unsupported(l, 'only epsilon 1e-3 with scale and centre');
        out.push({ kind: 'bn', layer: l.name, roles: ['gamma', 'beta'] });
        break;
      case 'activation':
        activation(l, l.activation);
        break;
      case 'relu':
        if (l.threshold !== 0 || l.negativeSlope !== 0 || l.maxValue !== null) throw unsupported(l, 'only plain ReLU');
        out.push({ kind: 'relu' });
        break;
      case 'pool':
        if (l.op !== 'max' || l.padding !== 'valid' || l.poolSize.some((p) => p !== 2) || l.strides.some((s) => s !== 2)) throw unsupported(l, 'only 2×2 max pooling, stride 2');
        out.push({ kind: 'pool' });
        break;
      case 'flatten':
        out.push({ kind: 'flatten' });
        break;
      default:
        throw unsupported(l, 'not implemented in the peer');
    }
    if (l.name === output) break;
  }
  return out;
}

export interface ProbeNumbers {
  loss: number;
  gradNorm: number;
  lossAtEta: number[];
  gradChange: number[];
  beta: number;
}

export interface PeerCheck {
  engine: ProbeNumbers;
  peer: ProbeNumbers;
  /** Largest relative difference in loss and β: |a − b| / max(1e-12, |b|). */
  lossRelDiff: number;
  betaRelDiff: number;
  /** Largest relative difference over ℓ(η) and d(η), for information. */
  curveRelDiff: number;
  ok: boolean;
}

export const PEER_TOLERANCE = 1e-4;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

/** One probed step of `b`'s variant at its initial weights on its next batch, by the engine and by the peer. */
export async function checkPeer(b: VariantBench, python: string, root: string): Promise<PeerCheck> {
  const { tf, run } = b;
  const layers = run.variant.layers;
  const plan = peerLayers(layers, run.model.output);
  const values = initialWeights({ spec: { ...b.net.spec, layers }, info: run.info, text: b.net.text }, b.config.seed, run.variant.name === 'as-written');
  const params = paramTensors(tf, run.info, values);
  const batch = b.nextBatch();
  try {
    const setup: ProbeSetup = { tf, model: run.model, loss: b.dataset.loss, forward: { training: true } };
    const { value, grads, first } = lossAndGradsForProbe(setup, params, batch);
    const p = await probeAlongGradient(setup, params, grads, value, batch, b.etas, first);
    disposeFirst(tf, first);
    value.dispose();
    tf.dispose(grads);
    const engine: ProbeNumbers = { loss: p.loss, gradNorm: p.gradNorm, lossAtEta: p.lossAtEta, gradChange: p.gradChange, beta: p.beta };

    // The manifest: every array as [offset, shape] into one float32 file.
    const chunks: Float32Array[] = [];
    let offset = 0;
    const put = (data: ArrayLike<number>, shape: number[]): [number, number[]] => {
      const f = Float32Array.from(data);
      chunks.push(f);
      offset += f.length;
      return [offset - f.length, shape];
    };
    const manifestLayers = plan.map((pl) => ({
      kind: pl.kind,
      params: Object.fromEntries(
        (pl.roles ?? []).map((role) => {
          const spec = run.info.params.find((q) => q.layer === pl.layer && q.role === role)!;
          return [role, put(values.get(paramKey(pl.layer!, role))!, spec.shape)];
        }),
      ),
    }));
    const x = put(await batch.x.data(), batch.x.shape);
    const y = put(await batch.y.data(), batch.y.shape);
    const dir = mkdtempSync(join(tmpdir(), 'bnlens-peer-'));
    try {
      const data = join(dir, 'data.f32');
      const bytes = new Uint8Array(offset * 4);
      let at = 0;
      for (const c of chunks) {
        bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
        at += c.byteLength;
      }
      writeFileSync(data, bytes);
      const manifest = join(dir, 'manifest.json');
      writeFileSync(manifest, JSON.stringify({ layers: manifestLayers, x, y, etas: b.etas, data }));
      const r = spawnSync(python, [peerScript(root), 'check', manifest], { encoding: 'utf8', timeout: 600_000 });
      if (r.error || r.status !== 0) throw new Error(`the NumPy peer's check failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
      const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as ProbeNumbers;
      const lossRelDiff = rel(engine.loss, peer.loss);
      const betaRelDiff = rel(engine.beta, peer.beta);
      const curveRelDiff = Math.max(...engine.lossAtEta.map((v, k) => rel(v, peer.lossAtEta[k])), ...engine.gradChange.map((v, k) => rel(v, peer.gradChange[k])));
      return { engine, peer, lossRelDiff, betaRelDiff, curveRelDiff, ok: lossRelDiff <= PEER_TOLERANCE && betaRelDiff <= PEER_TOLERANCE };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    tf.dispose(params);
    if (batch.owned) tf.dispose([batch.x, batch.y]);
  }
}
