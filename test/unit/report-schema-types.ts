// Compile-time check, run by test/unit/report-schema.test.ts (and by `npm run typecheck`): the report types of
// src/protocol.ts are exactly the types generated from src/report/report.schema.json. When a field is added to
// one and not the other, this file stops compiling and the test names the type that differs.
import type * as P from '../../src/protocol';
import type * as S from '../../src/report/reportSchema.generated';

/** true only when A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Check<T extends true> = T;

export type ReportTypesMatchTheSchema = [
  Check<Same<P.Report, S.Report>>,
  Check<Same<P.AnalyzeConfig, S.AnalyzeConfig>>,
  Check<Same<P.ModelInfo, S.ModelInfo>>,
  Check<Same<P.SourceLayerInfo, S.SourceLayerInfo>>,
  Check<Same<P.DatasetInfo, S.DatasetInfo>>,
  Check<Same<P.RunInfo, S.RunInfo>>,
  Check<Same<P.VariantReport, S.VariantReport>>,
  Check<Same<P.VariantLayerInfo, S.VariantLayerInfo>>,
  Check<Same<P.StepRecord, S.StepRecord>>,
  Check<Same<P.LayerStatRecord, S.LayerStatRecord>>,
  Check<Same<P.Histogram, S.Histogram>>,
  Check<Same<P.Moments, S.Moments>>,
  Check<Same<P.EvalRecord, S.EvalRecord>>,
  Check<Same<P.DivergenceInfo, S.DivergenceInfo>>,
  Check<Same<P.SummaryRow, S.SummaryRow>>,
  Check<Same<P.VariantName, S.VariantName>>,
  Check<Same<P.LossName, S.LossName>>,
  Check<Same<P.BackendName, S.BackendName>>,
  Check<Same<P.BackendChoice, S.BackendChoice>>,
  Check<Same<P.HessianMeasure, S.HessianMeasure>>,
  Check<Same<P.HessianBn, S.HessianBn>>,
  Check<Same<P.LrRun, S.LrRun>>,
  Check<Same<P.SweepSummary, S.SweepSummary>>,
  Check<Same<P.SliceResult, S.SliceResult>>,
  Check<Same<P.SliceVariant, S.SliceVariant>>,
  Check<Same<P.SliceNormName, S.SliceNormName>>,
  Check<Same<P.SliceIgnoreName, S.SliceIgnoreName>>,
  Check<Same<P.SliceDirectionName, S.SliceDirectionName>>,
];
