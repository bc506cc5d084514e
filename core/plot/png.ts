/**
 * SVG -> PNG with resvg, using only the DejaVu Sans files of the `dejavu-fonts-ttf` package (no system
 * fonts), so the picture is the same on every machine.
 *
 * Caveat (resvg-js 2.6.2): a clip-path group lying wholly outside the canvas (e.g. after shrinking the
 * viewBox to crop a figure) makes resvg panic, which aborts the Node process rather than throwing.
 * Figures from figure.ts never do that; to crop one, drop the panels outside the crop first.
 */
import { renderAsync } from '@resvg/resvg-js';
import { FONT_FAMILY, fontFiles } from './font.js';

export interface PngOptions {
  /** Output width in px (default: the SVG's own width); the height follows the aspect ratio. */
  width?: number;
  /** Background colour behind transparent parts (default white). */
  background?: string;
}

export async function toPng(svg: string, opts: PngOptions = {}): Promise<Uint8Array> {
  const img = await renderAsync(svg, {
    fitTo: opts.width ? { mode: 'width', value: Math.round(opts.width) } : { mode: 'original' },
    background: opts.background ?? '#ffffff',
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      defaultFontSize: 14,
    },
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'error',
  });
  const buf = img.asPng();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
