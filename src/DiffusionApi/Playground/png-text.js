// Reads a PNG's text chunk (the service writes A1111's infotext as "parameters": tEXt in Latin-1, or uncompressed
// iTXt in UTF-8 when the text needs it). Returns null for other formats or when the chunk is absent.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function pngText(buffer, keyword) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(buffer);
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = latin1(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, Math.min(at + 8 + length, bytes.length));
    if (type === 'IEND') break;
    if (type === 'tEXt' || type === 'iTXt') {
      const zero = data.indexOf(0);
      if (zero > 0 && latin1(data.subarray(0, zero)) === keyword) {
        if (type === 'tEXt') return latin1(data.subarray(zero + 1));
        // iTXt: keyword 0 compression-flag compression-method language 0 translated-keyword 0 text
        if (data[zero + 1] !== 0) return null;
        const language = data.indexOf(0, zero + 3);
        const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
        return translated < 0 ? null : new TextDecoder('utf-8').decode(data.subarray(translated + 1));
      }
    }
    at += 12 + length;
  }
  return null;
}

function latin1(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}
