/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4). No dependency.
 *
 * @module
 */

/** The label values of one series, by label name. */
export type Labels = Readonly<Record<string, string>>;

/** The description of a metric. */
export interface MetricOptions<L extends string = string> {
  /** The name: `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`, units in the name (`_seconds`). */
  readonly name: string;
  /** One line saying what it counts. */
  readonly help: string;
  /** The label names, if any: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`. */
  readonly labels?: readonly L[];
}

/** The description of a histogram. */
export interface HistogramOptions<L extends string = string> extends MetricOptions<L> {
  /** The upper bounds of the buckets, increasing (`+Inf` is added). */
  readonly buckets: readonly number[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A value as the text format writes it. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Renders a label set: `{a="1",b="2"}`, or nothing. */
function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i])}"`);
  if (extra !== "") parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Checks a metric's name and label names. */
function checkNames(options: MetricOptions): readonly string[] {
  if (!METRIC_NAME.test(options.name)) {
    throw new TypeError(`Invalid metric name ${JSON.stringify(options.name)}`);
  }
  const labels = options.labels ?? [];
  for (const label of labels) {
    if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") {
      throw new TypeError(`Invalid label name ${JSON.stringify(label)} for ${options.name}`);
    }
  }
  return labels;
}

/** The values of a label set in label-name order, checking that every label has one. */
function labelValues(name: string, labelNames: readonly string[], labels?: Labels): string[] {
  const values: string[] = [];
  for (const label of labelNames) {
    const value = labels?.[label];
    if (value === undefined) throw new TypeError(`Metric ${name} needs label ${label}`);
    values.push(String(value));
  }
  return values;
}

function header(lines: string[], name: string, help: string, type: string): void {
  lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
}

/** One series of a counter, bound to its label values. */
export interface CounterSeries {
  /**
   * Adds to the series.
   *
   * @param amount How much; 1 by default.
   */
  inc(amount?: number): void;
}

/** One series of a histogram, bound to its label values. */
export interface HistogramSeries {
  /**
   * Records one observation in the series.
   *
   * @param value The value (seconds for a `_seconds` histogram).
   */
  observe(value: number): void;
}

/** A value that only goes up (`_total`). */
export class Counter<L extends string = string> {
  /** The metric name. */
  readonly name: string;
  /** What it counts. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly L[];
  #series = new Map<string, { values: string[]; value: number }>();

  /**
   * Creates a counter (or use `MetricsRegistry.counter()`).
   *
   * @param options Name, help, label names.
   * @throws {TypeError} For a bad name or label name.
   */
  constructor(options: MetricOptions<L>) {
    this.labelNames = checkNames(options) as readonly L[];
    this.name = options.name;
    this.help = options.help;
  }

  #key(labels: Labels | undefined): string[] {
    return labelValues(this.name, this.labelNames, labels);
  }

  /**
   * Adds to the series of a label set.
   *
   * @param labels A value for each label name (omit when there are none).
   * @param amount How much; at least 0.
   * @throws {RangeError} For a negative amount.
   */
  inc(labels?: Labels, amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`Counter ${this.name}: cannot add ${amount}`);
    const values = this.#key(labels);
    const key = values.join("\u0000");
    const series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, { values, value: amount });
    else series.value += amount;
  }

  /**
   * The value of a label set's series.
   *
   * @param labels A value for each label name.
   * @returns The value; 0 if never increased.
   */
  get(labels?: Labels): number {
    return this.#series.get(this.#key(labels).join("\u0000"))?.value ?? 0;
  }

  /**
   * The series of one label set, to increase without looking it up each time
   * (hot paths). It is rendered from the first call, at 0.
   *
   * @param labels A value for each label name (omit when there are none).
   * @returns The series.
   */
  child(labels?: Labels): CounterSeries {
    const values = this.#key(labels);
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { values, value: 0 };
      this.#series.set(key, series);
    }
    const bound = series;
    return {
      inc(amount = 1) {
        bound.value += amount;
      },
    };
  }

  /**
   * Appends the counter's lines in the text exposition format.
   *
   * @param lines Where to append.
   */
  render(lines: string[]): void {
    header(lines, this.name, this.help, "counter");
    if (this.#series.size === 0 && this.labelNames.length === 0) lines.push(`${this.name} 0`);
    for (const { values, value } of this.#series.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatValue(value)}`);
    }
  }
}

/** A value that goes up and down, set directly or read when rendered. */
export class Gauge<L extends string = string> {
  /** The metric name. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly L[];
  #series = new Map<string, { values: string[]; value: number }>();
  #collect: (() => number) | undefined;

  /**
   * Creates a gauge (or use `MetricsRegistry.gauge()`).
   *
   * @param options Name, help, labels.
   * @param collect For a gauge without labels: read its value when rendering.
   * @throws {TypeError} For a bad name or label name.
   */
  constructor(options: MetricOptions<L>, collect?: () => number) {
    this.labelNames = checkNames(options) as readonly L[];
    this.name = options.name;
    this.help = options.help;
    this.#collect = collect;
  }

  /**
   * Sets the series of a label set.
   *
   * @param labels A value for each label name (omit when there are none).
   * @param value The value.
   */
  set(labels: Labels | undefined, value: number): void {
    const values = labelValues(this.name, this.labelNames, labels);
    this.#series.set(values.join("\u0000"), { values, value });
  }

  /**
   * Appends the gauge's lines in the text exposition format.
   *
   * @param lines Where to append.
   */
  render(lines: string[]): void {
    header(lines, this.name, this.help, "gauge");
    if (this.#collect !== undefined) {
      lines.push(`${this.name} ${formatValue(this.#collect())}`);
      return;
    }
    for (const { values, value } of this.#series.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatValue(value)}`);
    }
  }
}

/** Counts observations into buckets, with their sum and count. */
export class Histogram<L extends string = string> {
  /** The metric name. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly L[];
  /** The upper bounds of the buckets (`+Inf` is implied). */
  readonly buckets: readonly number[];
  #series = new Map<string, { values: string[]; counts: number[]; sum: number; count: number }>();

  /**
   * Creates a histogram (or use `MetricsRegistry.histogram()`).
   *
   * @param options Name, help, labels and bucket bounds.
   * @throws {TypeError} For a bad name or label name.
   * @throws {RangeError} If the bounds do not increase.
   */
  constructor(options: HistogramOptions<L>) {
    this.labelNames = checkNames(options) as readonly L[];
    this.name = options.name;
    this.help = options.help;
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i] > options.buckets[i - 1])) {
        throw new RangeError(`Histogram ${options.name}: bucket bounds must increase`);
      }
    }
    this.buckets = options.buckets;
  }

  /**
   * Records one observation.
   *
   * @param value The value (seconds for a `_seconds` histogram).
   * @param labels A value for each label name (omit when there are none).
   */
  observe(value: number, labels?: Labels): void {
    this.#record(this.#seriesOf(labels), value);
  }

  /**
   * The series of one label set, to observe without looking it up each time
   * (hot paths). It is rendered from the first call, with no observation.
   *
   * @param labels A value for each label name (omit when there are none).
   * @returns The series.
   */
  child(labels?: Labels): HistogramSeries {
    const series = this.#seriesOf(labels);
    return { observe: (value) => this.#record(series, value) };
  }

  #seriesOf(labels?: Labels): { values: string[]; counts: number[]; sum: number; count: number } {
    const values = labelValues(this.name, this.labelNames, labels);
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { values, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    return series;
  }

  #record(
    series: { counts: number[]; sum: number; count: number },
    value: number,
  ): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]) i++;
    if (i < buckets.length) series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  /**
   * Appends the histogram's lines in the text exposition format.
   *
   * @param lines Where to append.
   */
  render(lines: string[]): void {
    header(lines, this.name, this.help, "histogram");
    for (const { values, counts, sum, count } of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += counts[i];
        const le = `le="${formatValue(this.buckets[i])}"`;
        lines.push(`${this.name}_bucket${labelText(this.labelNames, values, le)} ${cumulative}`);
      }
      const inf = labelText(this.labelNames, values, 'le="+Inf"');
      const plain = labelText(this.labelNames, values);
      lines.push(
        `${this.name}_bucket${inf} ${count}`,
        `${this.name}_sum${plain} ${formatValue(sum)}`,
        `${this.name}_count${plain} ${count}`,
      );
    }
  }
}

/** The content type of the text exposition format, for the `/metrics` response. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A set of metrics rendered together. */
export class MetricsRegistry {
  #metrics = new Map<string, Counter | Gauge | Histogram>();

  /**
   * Adds a counter.
   *
   * @param options Name (ending in `_total`), help, label names.
   * @returns The counter.
   * @throws {TypeError} For a bad or taken name.
   */
  counter<L extends string>(options: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter(options));
  }

  /**
   * Adds a gauge.
   *
   * @param options Name, help, label names.
   * @param collect For a gauge without labels: read its value when rendering.
   * @returns The gauge.
   * @throws {TypeError} For a bad or taken name.
   */
  gauge<L extends string>(options: MetricOptions<L>, collect?: () => number): Gauge<L> {
    return this.#add(new Gauge(options, collect));
  }

  /**
   * Adds a histogram.
   *
   * @param options Name, help, label names, bucket bounds.
   * @returns The histogram.
   * @throws {TypeError} For a bad or taken name.
   */
  histogram<L extends string>(options: HistogramOptions<L>): Histogram<L> {
    return this.#add(new Histogram(options));
  }

  /**
   * Renders every metric in the text exposition format.
   *
   * @returns The text for a `/metrics` response (content type {@linkcode PROMETHEUS_CONTENT_TYPE}).
   */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) metric.render(lines);
    return lines.join("\n") + "\n";
  }

  #add<M extends Counter | Gauge | Histogram>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new TypeError(`A metric named ${metric.name} exists already`);
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}
