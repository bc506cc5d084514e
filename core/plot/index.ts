/**
 * A small SVG plotting library (no cosmology in here): figures of panel grids with linear, log and
 * symmetric-log axes, lines (with |y|-dashed display of sign changes), markers, bands, text, confidence
 * ellipses, legends; a triangle plot of covariance matrices; contours of gridded densities (d3-contour);
 * PNG output through resvg with DejaVu Sans. Scales and ticks are d3-scale's (scale.ts).
 */
export { Figure, Panel, markerSvg } from './figure.js';
export type {
  AxisOptions, LineStyle, LineOptions, NegativeMode, MarkerShape, MarkerOptions, EllipseOptions, AreaOptions, RegionOptions,
  TextOptions, LegendEntry, LegendLoc, LegendOptions, FigureLegendOptions, FigureOptions,
} from './figure.js';
export { Scale, linearTicks, logTicks, symlogTicks, niceStep, autoDomain } from './scale.js';
export type { ScaleKind, Tick, Ticks, TickOptions, DomainOptions } from './scale.js';
export { contourLines, contourPathData, histogram2d, massContours, massLevels } from './contours.js';
export type { Contour, DensityGrid, HistogramOptions } from './contours.js';
export { covarianceEllipse, ellipsePoints, ellipseScaleForProbability, probabilityOfSigma, erf } from './ellipse.js';
export type { Cov2, EllipseGeometry } from './ellipse.js';
export { CATEGORY10, orderedColors, viridis, oklch, lighten } from './color.js';
export { escapeXml, parseRich, plainText, richWidth, svgText, formatNumber, formatScientific, formatValue, SCRIPT_SCALE, MIN_SCRIPT_PX, scriptSize } from './text.js';
export type { RichRun, TextStyle } from './text.js';
export { measureText, fontFiles, dejavuDir, FONT_FAMILY } from './font.js';
export { toPng, type PngOptions } from './png.js';
export { heatmapSvg, type HeatmapOptions } from './heatmap.js';
export { triangleSvg, formatMeanSigma, type TriangleOptions, type TriangleSet } from './triangle.js';
