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
