/**
 * A tiny document model for reports — headings, paragraphs, tables, images, lists, preformatted text — rendered
 * to GitHub Markdown or to a standalone HTML page (no Markdown parser needed: both come from the same blocks).
 */
import { esc } from './svg.js';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; headers: string[]; rows: string[][]; left?: number[] }
  | { kind: 'image'; src: string; alt: string; width?: number }
  | { kind: 'figures'; items: { src: string; caption: string; width?: number }[] }
  | { kind: 'list'; items: string[] }
  | { kind: 'pre'; text: string };

/** Inline markup allowed in text: **bold** and `code`. */
function inlineHtml(s: string): string {
  return esc(s)
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/`(.+?)`/g, '<code>$1</code>');
}

export function toMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'paragraph':
        out.push(b.text);
        break;
      case 'table': {
        const cell = (s: string) => s.replace(/\|/g, '\\|');
        out.push(
          [
            `| ${b.headers.map(cell).join(' | ')} |`,
            `| ${b.headers.map((_, i) => (b.left?.includes(i) ? ':--' : '--:')).join(' | ')} |`,
            ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
          ].join('\n'),
        );
        break;
      }
      case 'image':
        out.push(`![${b.alt}](${b.src})`);
        break;
      case 'figures':
        out.push(
          `| ${b.items.map((i) => i.caption.replace(/\|/g, '\\|')).join(' | ')} |\n| ${b.items.map(() => ':-:').join(' | ')} |\n` +
            `| ${b.items.map((i) => `![${i.caption.replace(/[[\]|]/g, '')}](${i.src})`).join(' | ')} |`,
        );
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${i}`).join('\n'));
        break;
      case 'pre':
        out.push('```\n' + b.text + '\n```');
        break;
    }
  }
  return out.join('\n\n') + '\n';
}

const CSS = `body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:26px;border-bottom:2px solid #ddd;padding-bottom:6px}h2{font-size:20px;margin-top:32px;border-bottom:1px solid #eee}h3{font-size:16px}
table{border-collapse:collapse;margin:10px 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}tr:nth-child(even) td{background:#fafafa}code,pre{font-family:DejaVu Sans Mono,monospace;font-size:12px}
pre{background:#f6f6f6;padding:8px;overflow-x:auto}img{max-width:100%}.figs{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;text-align:center}figcaption{font-size:12px;color:#444;max-width:200px}img.px{image-rendering:pixelated}`;

export function toHtml(blocks: readonly Block[], title: string): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        out.push(`<p>${inlineHtml(b.text)}</p>`);
        break;
      case 'table': {
        const cls = (i: number) => (b.left?.includes(i) ? ' class="l"' : '');
        out.push(
          `<table><thead><tr>${b.headers.map((h, i) => `<th${cls(i)}>${inlineHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
            b.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${inlineHtml(c)}</td>`).join('')}</tr>`).join('') +
            '</tbody></table>',
        );
        break;
      }
      case 'image':
        out.push(`<p><img src="${esc(b.src)}" alt="${esc(b.alt)}"${b.width ? ` width="${b.width}"` : ''}></p>`);
        break;
      case 'figures':
        out.push(
          `<div class="figs">${b.items.map((i) => `<figure><img class="px" src="${esc(i.src)}" alt="${esc(i.caption)}"${i.width ? ` width="${i.width}"` : ''}><figcaption>${inlineHtml(i.caption)}</figcaption></figure>`).join('')}</div>`,
        );
        break;
      case 'list':
        out.push(`<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('')}</ul>`);
        break;
      case 'pre':
        out.push(`<pre>${esc(b.text)}</pre>`);
        break;
    }
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>\n<body>\n${out.join('\n')}\n</body></html>\n`;
}
