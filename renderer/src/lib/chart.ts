/** chart.js with only the pieces the workbench draws, registered once, and theme-aware colours. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);

/** Read a CSS custom property of the current theme, e.g. themeColor('--est-a'). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Colour with alpha from a #rrggbb value. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`;
}

/** Shared axis/grid styling for the current theme. */
export function axisStyle() {
  const text = themeColor('--muted');
  const grid = themeColor('--border');
  return { ticks: { color: text }, grid: { color: grid }, title: { color: text, display: true } };
}

export { Chart };
