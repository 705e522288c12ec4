// Both variants of one workload, concurrently, one engine process each: the parent releases every phase to
// both processes at once and times it; the children time themselves too (wall and CPU), and report.

import { availableParallelism, loadavg } from 'node:os';
import type { BackendChoice, VariantName } from '../../protocol';
import { ChildHandle } from './child';
import { round, type BenchLine, type PhaseLine } from './report';
import { workloadDef } from './workloads';

const VARIANTS: VariantName[] = ['standard', 'batchnorm'];

/** `concurrency` 1 runs the variants' engine processes one after the other (what one core gives); 2 (default)
 * runs them at once, one per core — the two figures measure how the step time scales with processes. */
export async function benchPair(workload: string, backend: BackendChoice, steps: number, root: string, profile: boolean, peerCheckPython?: string, concurrency = 2): Promise<BenchLine> {
  const def = workloadDef(workload);
  const handles = VARIANTS.map((variant) => new ChildHandle({ workload, variant, backend, steps, root, profile, peerCheckPython }, variant));
  try {
    await Promise.all(handles.map((h) => h.next('ready')));
    const phase = async (p: string) => {
      const t0 = performance.now();
      if (concurrency >= handles.length) {
        handles.forEach((h) => h.send({ type: 'go', phase: p }));
        await Promise.all(handles.map((h) => h.next('phaseDone')));
      } else
        for (const h of handles) {
          h.send({ type: 'go', phase: p });
          await h.next('phaseDone');
        }
      return (performance.now() - t0) / steps;
    };
    const probeMs = await phase('probe');
    const trainMs = await phase('train');
    const extraMs = new Map<string, number>();
    for (const p of def.extraPhases ?? []) extraMs.set(p.name, await phase(p.name));
    const results = (await Promise.all(handles.map((h) => h.next('result')))).map((m) => m.result);
    const flopsProbe = results.reduce((a, r) => a + r.flopsPerProbedStep, 0);
    const flopsTrain = results.reduce((a, r) => a + r.flopsPerTrainStep, 0);
    const fallbackCalls: BenchLine['fallbackCalls'] = {};
    for (const r of results)
      for (const [k, s] of Object.entries(r.fallbackCalls)) {
        const f = (fallbackCalls[k] ??= { calls: 0, ms: 0 });
        f.calls += s.calls;
        f.ms += s.ms;
      }
    const counted = results.every((r) => r.kernelCallsPerProbedStep !== null);
    const line: BenchLine = {
      workload,
      backend: results[0].backend,
      steps,
      concurrency: Math.min(concurrency, handles.length),
      twoVariantMsPerProbedStep: round(probeMs),
      msPerTrainStep: round(trainMs),
      cpuMsPerProbedStep: round(results.reduce((a, r) => a + r.cpuMsPerProbedStep, 0)),
      gflops: round(flopsProbe / (probeMs * 1e6)),
      trainGflops: round(flopsTrain / (trainMs * 1e6)),
      kernelCallsPerProbedStep: counted
        ? round(
            results.reduce((a, r) => a + r.kernelCallsPerProbedStep!, 0),
            1,
          )
        : null,
      peakRssMB: round(Math.max(...results.map((r) => r.peakRssMB))),
      tensorsAtEnd: results.reduce((a, r) => a + r.tensorsAtEnd, 0),
      tensorsSteady: results.every((r) => r.tensorsPerStep.every((n) => n === r.tensorsPerStep[0])),
      perVariant: Object.fromEntries(
        results.map((r) => [
          r.variant,
          {
            msPerProbedStep: round(r.msPerProbedStep),
            msPerTrainStep: round(r.msPerTrainStep),
            cpuMsPerProbedStep: round(r.cpuMsPerProbedStep),
            cpuMsPerTrainStep: round(r.cpuMsPerTrainStep),
            peakRssMB: round(r.peakRssMB),
            tensorsAtEnd: r.tensorsAtEnd,
            finalLoss: r.finalLoss,
            kernelCallsPerProbedStep: r.kernelCallsPerProbedStep === null ? null : round(r.kernelCallsPerProbedStep, 1),
          },
        ]),
      ),
      fallbackCalls,
      loadAverage: round(loadavg()[0]),
      cores: availableParallelism(),
    };
    if (extraMs.size) {
      const phases: Record<string, PhaseLine> = {};
      for (const p of def.extraPhases ?? []) {
        const ms = extraMs.get(p.name)!;
        const flops = results.reduce((a, r) => a + (r.phases[p.name]?.flops ?? 0), 0);
        phases[p.name] = {
          unit: p.unit,
          twoVariantMs: round(ms),
          gflops: round(flops / (ms * 1e6)),
          perVariant: Object.fromEntries(results.map((r) => [r.variant, { ms: round(r.phases[p.name].ms), cpuMs: round(r.phases[p.name].cpuMs) }])),
        };
      }
      line.phases = phases;
    }
    if (results.some((r) => r.peerCheck))
      line.peerCheck = Object.fromEntries(
        results.map((r) => [
          r.variant,
          r.peerCheck && {
            ...r.peerCheck,
            lossRelDiff: Number(r.peerCheck.lossRelDiff.toExponential(2)),
            betaRelDiff: Number(r.peerCheck.betaRelDiff.toExponential(2)),
            curveRelDiff: Number(r.peerCheck.curveRelDiff.toExponential(2)),
          },
        ]),
      );
    if (profile) line.profile = Object.fromEntries(results.map((r) => [r.variant, (r.profile ?? []).map((p) => ({ ...p, calls: round(p.calls, 1), ms: round(p.ms, 3) }))]));
    return line;
  } finally {
    for (const h of handles) h.kill();
  }
}
