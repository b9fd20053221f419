/** Result types of the project area of the API (plain JSON: typed arrays become number arrays). */
import type { ProjectOverview } from '../store/index.ts';

export interface ItemInfo {
  id: number;
  name: string;
  createdAt: string;
  contentHash: string;
}

export interface ProjectSummary {
  overview: ProjectOverview;
  experiments: (ItemInfo & { space: string; backend: string })[];
  observations: (ItemInfo & {
    source: string;
    traces: number;
    samples: number;
    sampleRate: number;
    unit: 'codes' | 'volts';
    circuitId: number | null;
  })[];
  classifiers: ItemInfo[];
  estimators: (ItemInfo & { summaryType: string; status: string; kind: string })[];
  posteriors: {
    id: number;
    observationId: number | null;
    estimatorId: number;
    samples: number;
    createdAt: string;
  }[];
  reports: ItemInfo[];
}

export interface ObservationData {
  id: number;
  name: string;
  unit: 'codes' | 'volts';
  sampleRate: number;
  traces: number;
  samples: number;
  /** First trace only (the UI shows one at a time). */
  trace: number[];
  trueTheta: number[] | null;
  paramNames: string[] | null;
  circuitId: number | null;
}

export interface EstimatorDetails {
  id: number;
  name: string;
  summaryType: string;
  status: string;
  createdAt: string;
  contentHash: string;
  config: Record<string, unknown>;
  /** One entry per ensemble member: epoch-wise training and validation loss. */
  history: { epoch: number; trainLoss: number; validationLoss: number }[][];
}

export interface RestrictionDetails {
  id: number;
  name: string;
  threshold: number;
  createdAt: string;
  stats: Record<string, unknown>;
}

export interface ComparisonData {
  observation: ObservationData & { onset: number | null };
  paramNames: string[];
  /** Prior box in the parameters' units, when the observation's experiment is known. */
  prior: { low: number[]; high: number[] } | null;
  posteriors: {
    posteriorId: number;
    estimatorId: number;
    summaryType: string;
    nSamples: number;
    /** nSamples x D, row-major. */
    samples: number[];
    diagnostics: Record<string, unknown>;
    /** Up to 20 posterior-predictive traces (MADC codes), each `samples` long. */
    predictive: number[][];
  }[];
}

export interface DiagnosticsData {
  paramNames: string[];
  estimators: {
    estimatorId: number;
    summaryType: string;
    calibration: {
      hpd: { levels: number[]; coverage: number[]; standardError: number[]; maxError: number } | null;
      marginal: { levels: number[]; coverage: number[]; maxError: number }[];
      sbc: {
        bins: number;
        parameters: { histogram: number[]; chi2P: number; ksP: number; uniform: boolean }[];
        pass: boolean;
      } | null;
      meanLogProb: number | null;
    } | null;
    chip: {
      circuits: number;
      mean: number[];
      std: number[];
      spread: number[];
      meanPosteriorStd: number[];
      nominal: number[];
      skipped: number[];
      inferenceSeconds: number;
    } | null;
  }[];
}
