// The charts the webview shows, in order, with what each card needs around its chart.
import type { Report } from '../src/protocol';
import * as betaSmoothness from './charts/betaSmoothness';
import * as curvatureAlongGradient from './charts/curvatureAlongGradient';
import * as hessianDensity from './charts/hessianDensity';
import * as hessianSpectrum from './charts/hessianSpectrum';
import type { ChartRender } from './charts/chartTypes';
import * as etaProfile from './charts/etaProfile';
import * as gradPredictiveness from './charts/gradPredictiveness';
import * as layerActivations from './charts/layerActivations';
import * as layerHistogram from './charts/layerHistogram';
import * as layerIcs from './charts/layerIcs';
import * as lossLandscape from './charts/lossLandscape';
import * as training from './charts/training';
import * as sliceSurface from './charts/sliceSurface';
import * as sweepAccuracy from './charts/sweepAccuracy';
import * as sweepTraining from './charts/sweepTraining';

export interface ChartModule {
  title: string;
  caption(report: Report | null): string;
  render: ChartRender;
}

export interface ChartDef {
  id: string;
  mod: ChartModule;
  /** Panels stacked vertically: taller. */
  panels: number;
  layerPicker?: boolean;
  /** A slider over the probed steps (the η profile). */
  stepPicker?: boolean;
  /** Shown only for reports this returns true for (a sweep, a report with slices); default: reports of a training run. */
  applies?: (report: Report | null) => boolean;
}

export const CHARTS: ChartDef[] = [
  { id: 'loss-landscape', mod: lossLandscape, panels: 1 },
  { id: 'grad-predictiveness', mod: gradPredictiveness, panels: 1 },
  { id: 'beta-smoothness', mod: betaSmoothness, panels: 1 },
  { id: 'curvature-along-gradient', mod: curvatureAlongGradient, panels: 2 },
  { id: 'hessian-spectrum', mod: hessianSpectrum, panels: 1 },
  { id: 'hessian-density', mod: hessianDensity, panels: 1, stepPicker: true },
  { id: 'training', mod: training, panels: 2 },
  { id: 'layer-ics', mod: layerIcs, panels: 2, layerPicker: true },
  { id: 'layer-activations', mod: layerActivations, panels: 1, layerPicker: true },
  { id: 'layer-histogram', mod: layerHistogram, panels: 2, layerPicker: true },
  { id: 'eta-profile', mod: etaProfile, panels: 2, stepPicker: true },
  { id: 'sweep-training', mod: sweepTraining, panels: 2, applies: sweepTraining.applies },
  { id: 'sweep-accuracy', mod: sweepAccuracy, panels: 1, applies: sweepAccuracy.applies },
  { id: 'slice-surface', mod: sliceSurface, panels: 2, applies: sliceSurface.applies },
];
