// The page's requests as curl commands a developer can paste into a POSIX shell. The API key is never written out:
// the command reads it from $DIFFUSION_API_KEY.

export function curlForSubmit(url, bodyText, withKey) {
  const parts = [`curl -sS -X POST ${quote(url)}`, `-H 'Content-Type: application/json'`];
  if (withKey) parts.push('-H "Authorization: Bearer $DIFFUSION_API_KEY"');
  parts.push(`--data-raw ${quote(bodyText)}`);
  return parts.join(' \\\n  ');
}

export function curlForEvents(url, withKey) {
  const key = withKey ? ' -H "Authorization: Bearer $DIFFUSION_API_KEY"' : '';
  return `curl -sS -N${key} ${quote(url)}`;
}

function quote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
