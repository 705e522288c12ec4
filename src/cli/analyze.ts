// `bnlens analyze MODEL [options]`: the main job from the terminal. Progress on stderr (a live bar on a
// terminal, plain lines otherwise), the summary table on stdout, the report as JSON and/or one HTML page.
// Ctrl-C stops at the end of the current step and still writes the partial report.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AnalyzeRequest, EngineToHost, Report } from '../protocol';
import { analyze } from '../engine/analyze';
import { CONFIG_KEYS, readConfigValues } from '../engine/config';
import { UserError } from '../engine/errors';
import { parseJsonText } from '../engine/network/json';
import { summaryTable } from '../report/summary';
import { isSweep, sweepTable } from '../report/runs';
import { readReportAssets, renderReportHtml } from '../report/html';
import { helpText, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';
import { ProgressLine } from './progress';

const CONFIG_HELP: Record<string, string> = {
  dataset: 'mnist | gaussian | dln | a path (.npz, x.npy,y.npy, .csv, CIFAR-10 folder); default: mnist for 28×28 inputs, dln for linear nets, else gaussian',
  loss: "softmax-ce | binary-ce | mse (default: from the output layer, the file's compile config, then the data)",
  variants: 'comma list of as-written, standard, batchnorm, noisy-batchnorm, l1, l2, linf (default standard,batchnorm)',
  steps: 'training steps per variant (default 200)',
  batch: 'batch size (default 128)',
  lr: 'learning rate of plain SGD (default 0.1); a comma list (0.01,0.05,0.1,0.5) is a sweep: every variant at every lr, probes every 10 steps unless --probe-every',
  momentum: 'SGD momentum (default 0: the paper’s plain SGD)',
  'probe-every': 'probe the landscape every N steps (default 1)',
  'eta-range': 'η range as multiples of lr, lo,hi (default 0.5,4: the paper’s VGG range)',
  'eta-count': 'number of η values (default 8)',
  'ics-every': 'ICS and layer statistics every N steps (default 10; 0 = never)',
  'eval-every': 'held-out evaluation every N steps (default 50; 0 = only at the end)',
  'eval-batch': 'held-out examples per evaluation chunk (default: as many as fit the memory estimate, at most 1000)',
  seed: 'seed for weights, batches and noise (default 0)',
  backend: 'auto | node | wasm | cpu (default auto: node if installed, else wasm)',
  'hessian-every': 'Hessian measures (λ_max, λ_min, trace, density) at every N-th probed step, e.g. 25 (default 0 = never)',
  'hessian-bn': 'BatchNorm in the Hessian measures: train (batch statistics, default) or eval (moving, as PyHessian)',
  'hessian-top': 'how many of the largest Hessian eigenvalues to keep (default 5)',
  model: 'Python files: which model — a class, builder function or variable, or a call such as "VGG(\'VGG11\')"',
  'input-shape': 'Python files: per-example input shape C,H,W (or F) when the file does not say it',
  weights: 'Python files: a .safetensors state_dict (default: FILE.safetensors beside the .py)',
  'eta-processes': 'processes per variant that share each probed step’s η: its own and N−1 probe helpers (default 1, none; auto: the cores left per variant process)',
};

/** `--hessian` alone: often enough to follow λ_max through training, rare enough to cost a few % of a run. */
const DEFAULT_HESSIAN_EVERY = 25;

const FLAGS: Record<string, FlagSpec> = {
  ...Object.fromEntries(Object.keys(CONFIG_KEYS).map((k) => [k, { value: true, help: CONFIG_HELP[k] ?? k }])),
  config: { value: true, help: 'JSON file with any of the settings above (flags win over it)' },
  out: { value: true, help: 'where to write the report JSON (default bnlens-report.json)' },
  html: { value: true, help: 'also write a self-contained HTML page with the charts' },
  hessian: { value: false, help: `the Hessian measures every ${DEFAULT_HESSIAN_EVERY} probed steps (--hessian-every N for another N)` },
  quiet: { value: false, help: 'no progress output' },
  help: { value: false, help: 'this help' },
};

const USAGE = 'Usage: bnlens analyze MODEL [--dataset D] [--steps N] [--variants LIST] [--out report.json] [--html report.html] [options]';

export async function analyzeMain(argv: string[]): Promise<number> {
  let report: Report | null = null;
  let outPath = 'bnlens-report.json';
  let htmlPath: string | undefined;
  try {
    const args = parseArgs(argv, FLAGS, 'analyze');
    if (args.flags.has('help')) {
      process.stdout.write(helpText(USAGE, FLAGS));
      return 0;
    }
    if (args.positional.length !== 1) throw new UserError(`bnlens analyze: give exactly one network file (${USAGE.replace('Usage: ', '')})`);
    const model = args.positional[0];
    let fromFile: Partial<AnalyzeRequest> = {};
    const configPath = args.flags.get('config');
    if (typeof configPath === 'string') {
      if (!existsSync(configPath)) throw new UserError('config file not found; check the path given to --config', configPath);
      const raw = parseJsonText(readFileSync(configPath, 'utf8'), configPath);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UserError('a --config file must hold one JSON object of settings', configPath);
      fromFile = readConfigValues(raw as Record<string, unknown>, `--config ${configPath}`, configPath);
    }
    const flagValues = Object.fromEntries(
      Object.keys(CONFIG_KEYS)
        .filter((k) => args.flags.has(k))
        .map((k) => [k, args.flags.get(k)]),
    );
    const fromFlags = readConfigValues(flagValues, 'bnlens analyze');
    if (args.flags.has('hessian') && fromFlags.hessianEvery === undefined) fromFlags.hessianEvery = DEFAULT_HESSIAN_EVERY;
    if (typeof args.flags.get('out') === 'string') outPath = args.flags.get('out') as string;
    htmlPath = typeof args.flags.get('html') === 'string' ? (args.flags.get('html') as string) : undefined;
    for (const p of [outPath, htmlPath]) if (p && !existsSync(dirname(p) || '.')) throw new UserError(`cannot write ${p}: folder ${dirname(p)} does not exist`);
    const assets = htmlPath ? readReportAssets(distDir()) : null;

    const quiet = args.flags.has('quiet');
    const progress = new ProgressLine(process.stderr, quiet);
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        progress.note('stopping after this step and writing the partial report… (Ctrl-C again to quit at once)');
        controller.abort();
      } else process.exit(130);
    };
    process.on('SIGINT', onSigint);
    const onEvent = (e: EngineToHost) => {
      if (e.type === 'started') progress.start(e.report);
      else if (e.type === 'step') progress.step(e.variant, e.record, e.progress);
      else if (e.type === 'diverged') progress.note(`variant ${e.variant} diverged at step ${e.info.step}: ${e.info.reason}; the others go on`);
      else if (e.type === 'log' && e.level !== 'info') progress.note(e.message);
      else if (e.type === 'eval') progress.eval(e.variant, e.record);
    };
    try {
      report = await analyze({ ...fromFile, ...fromFlags, model }, onEvent, controller.signal);
    } finally {
      process.off('SIGINT', onSigint);
      progress.end();
    }
    writeFileSync(outPath, JSON.stringify(report));
    if (htmlPath && assets) writeFileSync(htmlPath, renderReportHtml(report, assets));
    process.stdout.write(`\n${summaryTable(report.summary)}\n\n`);
    if (isSweep(report)) process.stdout.write(`Learning-rate sweep (the table above is lr ${report.config.lr}):\n${sweepTable(report)}\n\n`);
    if (!report.complete) process.stdout.write(`Run stopped early (${report.stopReason}); the report holds the steps done so far.\n`);
    process.stdout.write(`Report: ${outPath}${htmlPath ? `   Charts: ${htmlPath}` : ''}\n`);
    process.stdout.write(`${findingLine(report)}\n`);
    return report.complete ? 0 : 130;
  } catch (e) {
    return reportFailure(e);
  }
}

/** One sentence on the paper's question for this run: is the batchnorm landscape smoother? */
function findingLine(r: Report): string {
  const std = r.summary.find((s) => s.variant === 'standard');
  const bn = r.summary.find((s) => s.variant === 'batchnorm');
  if (!std || !bn || std.meanBeta === null || bn.meanBeta === null) return '';
  const ratio = std.meanBeta / bn.meanBeta;
  return ratio > 1
    ? `Effective β-smoothness: batchnorm ${bn.meanBeta.toFixed(3)} vs standard ${std.meanBeta.toFixed(3)} — the BatchNorm landscape is ${ratio < 1000 ? ratio.toFixed(1) : ratio.toPrecision(2)}× smoother along the gradient.`
    : `Effective β-smoothness: batchnorm ${bn.meanBeta.toFixed(3)} vs standard ${std.meanBeta.toFixed(3)} — here BatchNorm did not make the landscape smoother (see the README on when this happens).`;
}

/** dist/ when running the bundle; the repository's dist/ when running from sources. */
function distDir(): string {
  const candidates = [__dirname, join(__dirname, '..', '..', 'dist'), join(__dirname, '..', 'dist')];
  const found = candidates.find((d) => existsSync(join(d, 'webview.js')));
  if (!found) throw new UserError('the chart bundle dist/webview.js is missing; run `npm run build` first');
  return found;
}
