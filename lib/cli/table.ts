/** Plain-text tables for the terminal: columns sized to their content, numbers right-aligned. */
import { printable } from '../net/printable.js';

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/**
 * Every cell is shown through printable(): a DNS name or SNI from a capture holding ESC or a
 * newline can neither drive the terminal nor forge a row, and widths are those of what is shown.
 */
export function renderTable(columns: readonly Column[], textRows: readonly (readonly string[])[], indent = '  '): string {
  const rows = textRows.map((row) => row.map(printable));
  // A loop, not Math.max(...rows): spreading a capture's 130,000 rows as arguments overflows the stack.
  const widths = columns.map((c) => printable(c.header).length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (row[i] ?? '').length);
  }
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, i) => (columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => printable(c.header))), ...rows.map(line)].join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** A bar of `width` cells for a share 0..1, readable without colour. */
export function bar(share: number, width = 20): string {
  const filled = Math.round(Math.max(0, Math.min(1, share)) * width);
  return '#'.repeat(filled) + '.'.repeat(width - filled);
}
