// Chart exports from the webview (SVG text or a PNG data URL) to the bytes written to disk. Pure.

/** Decodes `data:[mime][;base64],…` into bytes. */
export function decodeDataUrl(data: string): Uint8Array {
  const m = /^data:([^,]*?)(;base64)?,(.*)$/s.exec(data);
  if (!m) throw new Error('not a data: URL');
  return m[2] ? Buffer.from(m[3], 'base64') : Buffer.from(decodeURIComponent(m[3]), 'utf8');
}

/** Bytes to write for an exported chart: SVG text as UTF-8, PNG from its data URL (raw base64 accepted too). */
export function exportBytes(format: 'svg' | 'png', data: string): Uint8Array {
  if (format === 'svg') return data.startsWith('data:') ? decodeDataUrl(data) : Buffer.from(data, 'utf8');
  return data.startsWith('data:') ? decodeDataUrl(data) : Buffer.from(data, 'base64');
}
