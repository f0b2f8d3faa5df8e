// What the server tells the browser to draw: data and labels only. The browser script turns each
// kind into an ECharts option; the server never sends code or markup into a chart.

/** A point in time: epoch milliseconds (as ECharts' time axis takes them). */
export type TimeMs = number;

export interface ChartSeries {
  name: string;
  /** [x, y]: x is epoch ms on a time axis, or a category's index on a category axis. */
  points: [number, number][];
  /** Draws this series as points rather than bars (flagged connections over their file's bars). */
  as?: 'bar' | 'line' | 'scatter';
  /** Plotted against the right-hand axis. */
  rightAxis?: boolean;
  /** A severity or status the stylesheet knows, so one word has one colour on every chart. */
  tone?: string;
}

export interface ChartSpec {
  /** time: x is a time axis; category: x holds `categories`. */
  axis: 'time' | 'category';
  categories?: string[];
  series: ChartSeries[];
  /** Axis names. */
  yName: string;
  rightYName?: string;
  /** A category chart with its bars lying down, the categories' names down the left. */
  horizontal?: boolean;
  /** Stack the bar series on one another. */
  stacked?: boolean;
  /** Shown instead of an empty chart. */
  empty: string;
}
