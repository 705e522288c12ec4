// Every message that crosses a process boundary (extension host ⇄ engine process ⇄ webview) and the
// report document they all share. One discriminated union per direction; nothing else is sent.
// This file has no runtime dependencies so that the engine, the host, the CLI and the webview bundle
// can all import it.

export const REPORT_SCHEMA = 'bnlens-report';
export const REPORT_VERSION = 1;

export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';
export type BackendName = 'node' | 'wasm' | 'cpu';
/** softmax-ce: class ids, softmax output; binary-ce: labels 0/1, one sigmoid (or logit) output; mse: targets. */
export type LossName = 'softmax-ce' | 'mse' | 'binary-ce';

export const VARIANT_NAMES = ['as-written', 'standard', 'batchnorm', 'noisy-batchnorm', 'l1', 'l2', 'linf'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Everything that determines a run. The CLI flags, `--config` JSON keys and `bnlens.*` settings map onto it. */
export interface AnalyzeConfig {
  /** Path of the network file (tfjs model.json or Keras topology JSON). */
  model: string;
  /** 'mnist' | 'gaussian' | 'dln' | a path (.npz, .npy pair, .csv, CIFAR-10 binary folder). */
  dataset: string;
  loss: LossName | 'auto';
  variants: VariantName[];
  steps: number;
  batch: number;
  lr: number;
  momentum: number;
  probeEvery: number;
  /** η range as multiples of lr: [lo, hi]; the paper's VGG range is [0.5, 4]. */
  etaRange: [number, number];
  etaCount: number;
  icsEvery: number;
  evalEvery: number;
  seed: number;
  backend: BackendChoice;
  /** Hessian measures (λ_max, λ_min, trace, density) every N probed steps; 0 or absent = never. */
  hessianEvery?: number;
  /** BatchNorm in the Hessian measures: 'train' (batch statistics, like every probe) or 'eval' (moving, as PyHessian). */
  hessianBn?: HessianBn;
  /** How many of the largest eigenvalues to report (`top`). */
  hessianTop?: number;
  /** Python network files: which model of the file (`--model`: a name or a call such as `VGG('VGG11')`). */
  pythonModel?: string;
  /** Per-example input shape in the file's layout (C,H,W for PyTorch), when the file does not say it. */
  inputShape?: number[];
  /** Weights file (.safetensors) for a Python network; default: the one beside it with the same stem. */
  weights?: string;
  /**
   * A learning-rate sweep (`--lr 0.01,0.05,0.1,0.5`): every variant trains at every one of these, in this
   * order. `lr` is lrs[0], whose runs are the report's `variants`; the others are in `Report.runs`.
   * Absent for a single learning rate.
   */
  lrs?: number[];
  /** Held-out examples per evaluation chunk; absent: sized from the memory estimate (see src/engine/memory.ts). */
  evalBatch?: number;
  /**
   * Processes that share each probed step's η per variant: the variant's own and etaProcesses − 1 probe
   * helpers (src/engine/etaHelpers.ts). Absent: 1 (no helpers); 'auto': the cores left per engine process;
   * a report records the number used.
   */
  etaProcesses?: number | 'auto';
}

export type HessianBn = 'train' | 'eval';

/**
 * What a caller asks for: the model and only the settings it sets explicitly. The engine fills the rest,
 * in this order: its defaults, then the network file's own `userDefinedMetadata.bnlens`, then these.
 */
export type AnalyzeRequest = Partial<Omit<AnalyzeConfig, 'model'>> & { model: string };

/** The engine's answer for one set of weights (`bnlens probe`). */
export interface ProbeResult {
  loss: number;
  gradNorm: number;
  eta: number[];
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
  /** κ_G(η) = gᵀ(g − ∇L(x − η·g)) / (η‖g‖²). */
  curvatureAtEta: number[];
  /** κ_L(η) = 2·(ℓ(η) − L + η‖g‖²) / (η²‖g‖²) (null: not finite). */
  descentFreeCurvatureAtEta: (number | null)[];
  ics: IcsEntry[];
  /** With --hessian. */
  hessian?: HessianMeasure;
  backend: BackendName;
  backendReason: string;
  tfjsVersion: string;
}

export interface IcsEntry {
  layer: string;
  l2: number;
  cos: number;
}

// ---------------------------------------------------------------- loss-surface slices (`bnlens slice`)

export type SliceNormName = 'filter' | 'layer' | 'none';
export type SliceIgnoreName = 'biasbn' | 'none';
export type SliceDirectionName = 'random' | 'gradient-random';

/** What a caller asks `bnlens slice` (and the extension's "Loss Surface at Step…") for. */
export interface SliceRequest {
  model: string;
  /** A data file or built-in set whose whole content is the batch (as in `bnlens probe`). */
  data?: string;
  /** Without `data`: `batch` seeded training examples of the run's data set (train.dataset, or auto). */
  batch?: number;
  /** Weights from another tfjs model.json with the same layers (default: MODEL's own, or its initializers). */
  weights?: string;
  /** Train each variant for this many steps (the run's settings in `train`) and slice at those weights. */
  atStep?: number;
  /** The run's settings for `atStep` and for the data set: what `bnlens analyze` would use. */
  train?: AnalyzeRequest;
  /** Variants to slice; default: the file as written, or with `atStep` the run's variants. */
  variants?: VariantName[];
  dims?: 1 | 2;
  range?: [number, number];
  points?: number;
  directions?: SliceDirectionName;
  norm?: SliceNormName;
  ignore?: SliceIgnoreName;
  bn?: 'train' | 'eval';
  seed?: number;
  backend?: BackendChoice;
  /** Engine processes to spread the points over (default one per core). */
  parallel?: number;
}

/** One network's slice. `loss` is null where the loss was not finite. */
export interface SliceVariant {
  variant: VariantName;
  /** Training step the weights are from (null: the file's weights or its initial ones). */
  step: number | null;
  /** 1-D: loss[i] at alphas[i]; 2-D: loss[j][i] at (alphas[i], betas[j]). */
  loss: (number | null)[] | (number | null)[][];
  /** L at the weights themselves (α = β = 0). */
  centerLoss: number;
  /** cos∠(d₁, d₂) before Gram–Schmidt; null for 1-D slices. */
  directionCosine: number | null;
  /** gradient-random: the point α on the first axis is x − (α·etaPerAlpha)·g. */
  etaPerAlpha: number | null;
  gradNorm: number | null;
  /** Parameters the directions move (all but the ignored ones). */
  sliceParams: number;
}

/** The `bnlens slice --out` document; the top-level loss fields are those of the first variant. */
export interface SliceResult {
  schema: 'bnlens-slice';
  version: 1;
  createdAt: string;
  model: string;
  dims: 1 | 2;
  alphas: number[];
  betas?: number[];
  directions: SliceDirectionName;
  norm: SliceNormName;
  ignore: SliceIgnoreName;
  bn: 'train' | 'eval';
  /** Examples in the fixed batch every point is evaluated on. */
  batch: number;
  /** Where the batch came from. */
  batchSource: string;
  seed: number;
  variant: VariantName;
  step: number | null;
  loss: (number | null)[] | (number | null)[][];
  centerLoss: number;
  directionCosine: number | null;
  variants: SliceVariant[];
  backend: BackendName;
  backendReason: string;
  tfjsVersion: string;
  processes: number;
  wallMs: number;
  pointsPerSecond: number;
  note: string;
  /** Only on a slice still being evaluated (the charts fill in live): grid points not evaluated yet, null in `loss`. */
  pending?: number;
}

// ---------------------------------------------------------------- report

export interface Report {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  createdAt: string;
  /** False while the run goes, and for a run that was cancelled or failed part-way. */
  complete: boolean;
  /** Why an incomplete report stopped: 'cancelled', 'failed: …'; null when complete or still running. */
  stopReason: string | null;
  config: AnalyzeConfig;
  model: ModelInfo;
  dataset: DatasetInfo;
  run: RunInfo;
  /** The η values probed (absolute step lengths, = etaRange multiples × lr), shared by every step. */
  eta: number[];
  variants: VariantReport[];
  /** Filled in at the end (and for partial reports at cancellation). */
  summary: SummaryRow[];
  /** Learning-rate sweep: the runs at every lr of config.lrs but the first (which is `variants` above). */
  runs?: LrRun[];
  /** Learning-rate sweep: per variant, the largest lr that did not diverge. */
  sweep?: SweepSummary;
  /** Loss-surface slices taken of this run in VS Code ("Loss Surface at Step…"); absent when none. `bnlens slice` writes its own file (--out). */
  slices?: SliceResult[];
}

/** One learning rate of a sweep: the same fields as the report's own `eta`, `variants`, `summary`. */
export interface LrRun {
  lr: number;
  eta: number[];
  variants: VariantReport[];
  summary: SummaryRow[];
}

export interface SweepSummary {
  lrs: number[];
  /** Per variant (config.variants order): the largest lr of the sweep whose run did not diverge; null if all did. */
  largestStableLr: { variant: VariantName; lr: number | null }[];
}

export interface ModelInfo {
  path: string;
  format: 'tfjs-layers' | 'keras2' | 'keras3' | 'pytorch' | 'keras-python' | 'onnx';
  name: string;
  /** The file's image layout when it is channels-first ('NCHW': PyTorch, ONNX); shapes below are in it. */
  layout?: 'NHWC' | 'NCHW';
  /** The weights file read beside or for the network, when not the network file itself. */
  weightsSource?: string;
  /** The layers as written in the file, in file order. */
  layers: SourceLayerInfo[];
}

export interface SourceLayerInfo {
  name: string;
  className: string;
  outputShape: (number | null)[];
  params: number;
}

export interface DatasetInfo {
  name: string;
  trainSize: number;
  testSize: number;
  inputShape: number[];
  /** Number of classes for softmax-ce, output width for mse. */
  outputs: number;
  loss: LossName;
}

export interface RunInfo {
  backend: BackendName;
  backendReason: string;
  tfjsVersion: string;
  bnlensVersion: string;
  node: string;
  platform: string;
  /** Wall time per phase, milliseconds (phases of parallel processes add up; load, train and total are wall clock). */
  wallMs: Record<string, number>;
  /** Engine processes the variants were spread over (one per core, at most one per variant). */
  parallelProcesses?: number;
}

export interface VariantReport {
  name: VariantName;
  description: string;
  layers: VariantLayerInfo[];
  steps: StepRecord[];
  layerStats: LayerStatRecord[];
  evals: EvalRecord[];
  diverged: DivergenceInfo | null;
}

export interface VariantLayerInfo {
  name: string;
  className: string;
  /** Name of the layer in the source file it came from; an inserted layer names the layer it follows. */
  sourceLayer: string | null;
  inserted: boolean;
  outputShape: (number | null)[];
  params: number;
}

export interface StepRecord {
  step: number;
  /** Training loss and accuracy on the step's batch, before the update. */
  loss: number;
  accuracy: number | null;
  gradNorm: number;
  /** L(x − η_k g) for every η of Report.eta (null: not finite — JSON has no NaN or Infinity). */
  lossAtEta: (number | null)[];
  /** ‖∇L(x − η_k g) − g‖₂ for every η (null: not finite). */
  gradChange: (number | null)[];
  /** max_k gradChange[k] / (η_k ‖g‖) (null: not finite). */
  beta: number | null;
  /** κ_G(η_k) = gᵀ(g − ∇L(x − η_k g)) / (η_k ‖g‖²) for every η (null: not finite). Absent in older reports. */
  curvatureAtEta?: (number | null)[];
  /** Hessian measures at this step's weights and batch, at steps t with t mod hessianEvery = 0. */
  hessian?: HessianMeasure;
}

/** Spectral measures of the Hessian of the batch loss, from exact Hessian-vector products. */
export interface HessianMeasure {
  /** Largest and smallest eigenvalue (Lanczos with full reorthogonalization). */
  lambdaMax: number;
  lambdaMin: number;
  /** The largest eigenvalues, descending (hessianTop of them). */
  top: number[];
  /** Hutchinson estimate of tr(H) with Rademacher vectors: mean, its standard error, the sample count. */
  trace: number;
  traceStdErr: number;
  traceSamples: number;
  /** gᵀHg/‖g‖²: the curvature along the gradient at η → 0 (null when g = 0). */
  gHg: number | null;
  /** Stochastic Lanczos quadrature: Ritz values and their weights (summing to 1), over all runs. */
  density: { nodes: number[]; weights: number[]; runs: number };
  /** Largest Ritz residual ‖Hq − θq‖ among the reported eigenvalues (their accuracy bound). */
  residual: number;
  /** BatchNorm statistics used: the batch's ('train') or the moving ones ('eval'). */
  bn: HessianBn;
  /** Trainable weights (the Hessian's dimension), Hessian-vector products used, wall time. */
  dimension: number;
  hvps: number;
  ms: number;
}

export interface LayerStatRecord {
  step: number;
  /** Layer name in the variant. */
  layer: string;
  sourceLayer: string | null;
  /** Present for layers with a kernel: ‖G − G′‖₂ and cos∠(G, G′) (Santurkar et al. Def. 2.1). */
  icsL2: number | null;
  icsCos: number | null;
  /** The layer's output activations over the batch (batch, height, width pooled). */
  actMean: number | null;
  actStd: number | null;
  hist: Histogram;
  weightNorm: number | null;
  gradNorm: number | null;
  /** BatchNorm / ℓp layers: statistics of the learnable scale and shift. */
  gamma?: Moments;
  beta?: Moments;
}

export interface Histogram {
  min: number | null;
  max: number | null;
  counts: number[];
}

export interface Moments {
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface EvalRecord {
  step: number;
  /** Held-out loss and accuracy in inference mode: BatchNorm layers use their moving statistics. */
  loss: number | null;
  accuracy: number | null;
  /**
   * Variants with BatchNorm only: the same held-out examples with every BatchNorm layer using the statistics
   * of the held-out batch itself (training mode, batches of `batchStatsBatch` examples, no noise). Early in a
   * run the moving averages lag the fast-changing weights; the gap between the two shows by how much.
   */
  batchStatsLoss?: number | null;
  batchStatsAccuracy?: number | null;
  batchStatsBatch?: number;
  /**
   * Steps the moving statistics have averaged, and the weight (momentum^steps of the slowest BatchNorm layer)
   * their initial values (mean 0, variance 1) still carry: above 0.05 the summary marks them as warming up.
   */
  movingStatsSteps?: number;
  movingStatsInitWeight?: number;
}

export interface DivergenceInfo {
  step: number;
  reason: string;
}

export interface SummaryRow {
  variant: VariantName;
  finalLoss: number | null;
  finalAccuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Variants with BatchNorm: the last held-out evaluation with each held-out batch's own statistics (EvalRecord). */
  testAccuracyBatchStats?: number | null;
  testLossBatchStats?: number | null;
  /**
   * True when the moving statistics of the last held-out evaluation still carried more than 5% of their
   * initial values (momentum^steps > 0.05): testLoss/testAccuracy then understate the network.
   */
  movingStatsWarmingUp?: boolean;
  meanBandWidth: number | null;
  meanGradChange: number | null;
  meanBeta: number | null;
  maxBeta: number | null;
  /** Mean over probed steps of the mean over η of κ_G; absent in older reports. */
  meanCurvature?: number | null;
  /** Mean of κ_L over probed steps and the η where float32 resolves it. */
  meanDescentFreeCurvature?: number | null;
  /** Mean λ_max over the steps with Hessian measures (absent when there are none). */
  meanLambdaMax?: number | null;
  diverged: DivergenceInfo | null;
}

// ---------------------------------------------------------------- host → engine

export type HostToEngine =
  | { type: 'start'; config: AnalyzeRequest }
  /** Evaluate the points k, k + of, … of a slice's grid (see src/engine/sliceParallel.ts). */
  | { type: 'slice'; request: SliceRequest; share: { k: number; of: number }; saveDirections?: string }
  | { type: 'cancel' };

// ---------------------------------------------------------------- engine → host

/** The parts of a step that take long enough to name while they run. */
export type RunPhase = 'hessian' | 'eval';

export interface Progress {
  done: number;
  total: number;
  /** Estimated milliseconds left, null until it can be estimated. */
  etaMs: number | null;
}

export type EngineToHost =
  | { type: 'started'; report: Report }
  | { type: 'step'; variant: VariantName; record: StepRecord; progress: Progress; lr?: number }
  | { type: 'layerStats'; variant: VariantName; records: LayerStatRecord[]; lr?: number }
  | { type: 'eval'; variant: VariantName; record: EvalRecord; lr?: number }
  | { type: 'diverged'; variant: VariantName; info: DivergenceInfo; lr?: number }
  /** A long piece of a step begins (the Hessian measures, a held-out evaluation): shown until the next 'step'. */
  | { type: 'phase'; variant: VariantName; step: number; phase: RunPhase; lr?: number }
  | { type: 'finished'; report: Report }
  | { type: 'failed'; message: string; location?: SourceLocation }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The engine's last message: it exits with `code` as soon as this has left the channel. */
  | { type: 'exiting'; code: number }
  | { type: 'sliceProgress'; done: number; total: number }
  /** One process's share of a slice: the result with, per variant, [flat grid index, loss] of its points. */
  | { type: 'slicePart'; part: { result: SliceResult; points: [number, number][][] } }
  /** One process's share so far, while it evaluates (the points done are in `points`); the charts fill in from these. */
  | { type: 'slicePartial'; part: { result: SliceResult; points: [number, number][][] } }
  /** A finished slice, added to the report's `slices`. */
  | { type: 'slice'; slice: SliceResult };

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

// ---------------------------------------------------------------- trainer → η helper

/** A tensor's values and shape, as one message carries it. */
export interface TensorData {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/**
 * A variant's engine process and the probe helpers it forks (src/engine/etaHelpers.ts): each helper builds
 * the variant's network once, then evaluates its share of a probed step's η on the weights and batch sent.
 */
export type TrainerToHelper =
  /** Build `variant` of config.model on `backend`, for the loss the trainer resolved. */
  | { type: 'helperInit'; config: AnalyzeConfig; variant: VariantName; backend: BackendName; loss: LossName }
  | {
      type: 'probe';
      step: number;
      params: Float32Array[];
      x: TensorData;
      y: TensorData;
      /** Noisy BatchNorm: the step's noise per layer, as the trainer drew it. */
      noise?: { layer: string; scale: TensorData; shift: TensorData }[];
      /** The η of this helper's share, in grid order. */
      etas: number[];
      /** The whole grid's size: the probe's evaluation plan (η stacked or one by one) is the trainer's. */
      gridSize: number;
    }
  | { type: 'cancel' };

export type HelperToTrainer =
  | { type: 'ready' }
  /** [ℓ(η), ‖∇L(x − ηg) − g‖, gᵀ(g − ∇L(x − ηg))] per η of the share, flat in η order. */
  | { type: 'rows'; step: number; rows: Float32Array }
  | { type: 'failed'; message: string };

// ---------------------------------------------------------------- host → webview

export type HostToWebview = { type: 'report'; report: Report | null; live: boolean } | { type: 'event'; event: EngineToHost } | { type: 'exported'; path: string } | { type: 'context'; context: ViewContext };

/** One run of a network file's history, as the charts view's run picker lists it. */
export interface RunChoice {
  /** 'live' for the run going now, else the stored run's id. */
  id: string;
  /** "Dec 1, 23:10 · 40 steps" / "… · stopped at step 8 of 40" / "running". */
  label: string;
  /** The settings that differ between runs: variants, lr, batch, data. */
  detail: string;
  complete: boolean;
}

/** What the charts view says around the charts: which file, which run, what is going on. */
export interface ViewContext {
  /** The network file the view follows (absolute path), and its base name. */
  file: string | null;
  fileName: string | null;
  phase: 'idle' | 'starting' | 'running' | 'stopping';
  /** The file's runs, newest first (the live one included), and the id of the one shown. */
  runs: RunChoice[];
  shown: string | null;
  /** Base name of the network file in the active editor, when there is one (the empty state offers to analyze it). */
  activeNetwork: string | null;
}

// ---------------------------------------------------------------- webview → host

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'export'; chart: string; format: 'svg' | 'png'; data: string }
  | { type: 'openReport' }
  /** The user picked a run of the file's history in the view. */
  | { type: 'selectRun'; id: string }
  /** Buttons of the view's empty and running states. */
  | { type: 'action'; action: 'analyze' | 'openExample' | 'stop' };
