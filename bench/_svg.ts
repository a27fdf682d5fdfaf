/**
 * The pieces the benchmark charts (bench/chart.ts, bench/shapes.ts) draw
 * their SVG with, by hand and without dependencies: one colour per runtime, a
 * rounded axis maximum, a plot frame with its grid, a legend and a note.
 *
 * @module
 */

/** One colour per runtime, the same in every chart. */
export const RUNTIME_COLORS: Record<string, string> = {
  deno: "#1f77b4",
  bun: "#d62728",
  node: "#2ca02c",
};

/**
 * The colour of an agent label: its runtime's, also for labels that name the
 * runtime first or last (`deno (bench/x.ts)`, `reference (minimal_agent.ts on
 * bun)`); grey for any other.
 */
export function colorOf(label: string): string {
  const runtime = /^(deno|bun|node)\b/.exec(label)?.[1] ??
    /\b(deno|bun|node)\)?$/.exec(label)?.[1] ?? "";
  return RUNTIME_COLORS[runtime] ?? "#555";
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^n) at or above `value`. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exponent = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * exponent >= value) return step * exponent;
  }
  return 10 * exponent;
}

/** Text made safe for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** An axis label for a count: `0`, `850k`, `1.2M`. */
export function formatCount(value: number): string {
  if (value === 0) return "0";
  return value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : `${Math.round(value / 1000)}k`;
}

/** A whole SVG document on a white background, ending in a newline. */
export function svgDocument(width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    "</svg>",
  ].join("\n") + "\n";
}

/** Where a panel draws: its plot area and the text around it. */
export interface PlotFrame {
  /** The plot area's left edge, top edge, width and height. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** The panel's title, centred on `titleX` at `titleY`. */
  title: string;
  titleX: number;
  titleY: number;
  /** The y axis's unit, written upwards centred on `unitX`. */
  unit: string;
  unitX: number;
  /** The top of the y axis (the bottom is 0). */
  maxY: number;
  /** How a y grid line is labelled. */
  label: (value: number) => string;
}

/**
 * A panel's title, its horizontal grid (6 lines, 0 to `maxY`) with labels,
 * its x and y axes and its unit; the caller adds the x labels and the data.
 */
export function plotFrame(frame: PlotFrame): string[] {
  const { left, top, width, height, maxY } = frame;
  const bottom = top + height;
  const out = [
    `<text x="${frame.titleX}" y="${frame.titleY}" text-anchor="middle" font-size="14" font-weight="bold">${
      escapeXml(frame.title)
    }</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    const y = bottom - (v / maxY) * height;
    out.push(`<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${
        escapeXml(frame.label(v))
      }</text>`,
    );
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  const middle = top + height / 2;
  out.push(
    `<text x="${frame.unitX}" y="${middle}" text-anchor="middle" font-size="12" transform="rotate(-90 ${frame.unitX} ${middle})">${
      escapeXml(frame.unit)
    }</text>`,
  );
  return out;
}

/**
 * A legend on one line from `x` at baseline `y`: a line (line charts) or a
 * box (bar charts) in each entry's colour, then its name; `spacing` pixels
 * from one entry to the next.
 */
export function legend(
  entries: { label: string; color: string }[],
  x: number,
  y: number,
  spacing: number,
  mark: "line" | "box",
): string[] {
  return entries.flatMap(({ label, color }, i) => {
    const at = x + i * spacing;
    const swatch = mark === "line"
      ? `<line x1="${at}" y1="${y - 4}" x2="${at + 24}" y2="${
        y - 4
      }" stroke="${color}" stroke-width="3"/>`
      : `<rect x="${at + 6}" y="${y - 10}" width="12" height="12" fill="${color}"/>`;
    return [swatch, `<text x="${at + 30}" y="${y}" font-size="12">${escapeXml(label)}</text>`];
  });
}

/** A small grey note ending at `x` (right-aligned). */
export function note(x: number, y: number, text: string): string {
  return `<text x="${x}" y="${y}" text-anchor="end" font-size="10" fill="#666">${
    escapeXml(text)
  }</text>`;
}
