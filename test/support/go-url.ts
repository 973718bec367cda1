/**
 * The subset of Go's `net/url` parser that the Kubernetes CEL URL library
 * (k8s.io/apiserver/pkg/cel/library/urls.go) relies on:
 *
 * - `isURL(s)`  is `url.ParseRequestURI(s) == nil error`
 * - `url(s)`    is `url.ParseRequestURI(s)` (must succeed) then `url.Parse(s)`
 *
 * The functions below follow Go's `parse(rawURL, viaRequest)`, `getScheme`, `parseAuthority`,
 * `parseHost` and `unescape` step by step, so that acceptance and the parsed scheme match the API server.
 */

export interface GoUrl {
  /** Lower-cased scheme, '' when absent. */
  readonly scheme: string;
  readonly opaque: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly fragment: string;
}

/** Go's `url.ParseRequestURI`: absolute URI or absolute path, no fragment handling. Throws on error. */
export function parseRequestUri(rawUrl: string): GoUrl {
  return parse(rawUrl, true);
}

/** Go's `url.Parse`: cuts the `#fragment` then parses leniently. Throws on error. */
export function parseUrl(rawUrl: string): GoUrl {
  const hash = rawUrl.indexOf('#');
  const main = hash < 0 ? rawUrl : rawUrl.slice(0, hash);
  const frag = hash < 0 ? '' : rawUrl.slice(hash + 1);
  const url = parse(main, false);
  return frag === '' ? url : { ...url, fragment: unescape(frag, 'fragment') };
}

type Mode = 'path' | 'host' | 'zone' | 'userPassword' | 'fragment';

function parse(rawUrl: string, viaRequest: boolean): GoUrl {
  if (containsCtlByte(rawUrl)) throw new Error('net/url: invalid control character in URL');
  if (rawUrl === '' && viaRequest) throw new Error('empty url');
  const url = { scheme: '', opaque: '', user: undefined as string | undefined, host: '', path: '', rawQuery: '', fragment: '' };
  if (rawUrl === '*') return { ...url, path: '*' };

  const [scheme, afterScheme] = getScheme(rawUrl);
  url.scheme = scheme.toLowerCase();
  let rest = afterScheme;
  if (rest.endsWith('?') && countOf(rest, '?') === 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      url.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }

  if (!rest.startsWith('/')) {
    if (url.scheme !== '') {
      // Rootless paths per RFC 3986 are opaque.
      return { ...url, opaque: rest };
    }
    if (viaRequest) throw new Error('invalid URI for request');
    const slash = rest.indexOf('/');
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(':')) throw new Error('first path segment in URL cannot contain colon');
  }

  if ((url.scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const parsed = parseAuthority(authority);
    url.user = parsed.user;
    url.host = parsed.host;
  }
  url.path = unescape(rest, 'path');
  return url;
}

function getScheme(rawUrl: string): [string, string] {
  for (let i = 0; i < rawUrl.length; i++) {
    const c = rawUrl[i];
    if (isAlpha(c)) continue;
    if (isDigit(c) || c === '+' || c === '-' || c === '.') {
      if (i === 0) return ['', rawUrl];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new Error('missing protocol scheme');
      return [rawUrl.slice(0, i), rawUrl.slice(i + 1)];
    }
    // Invalid character: there is no valid scheme.
    return ['', rawUrl];
  }
  return ['', rawUrl];
}

function parseAuthority(authority: string): { user: string | undefined; host: string } {
  const at = authority.lastIndexOf('@');
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return { user: undefined, host };
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) throw new Error('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  const username = unescape(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userPassword');
  if (colon >= 0) unescape(userinfo.slice(colon + 1), 'userPassword');
  return { user: username, host };
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    // IP-literal (RFC 3986) with optional RFC 6874 zone.
    const close = host.lastIndexOf(']');
    if (close < 0) throw new Error("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port "${colonPort}" after host`);
    const zone = host.slice(0, close).indexOf('%25');
    if (zone >= 0) {
      return unescape(host.slice(0, zone), 'host') + unescape(host.slice(zone, close), 'zone') + unescape(host.slice(close), 'host');
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      const colonPort = host.slice(colon);
      if (!validOptionalPort(colonPort)) throw new Error(`invalid port "${colonPort}" after host`);
    }
  }
  return unescape(host, 'host');
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  return [...port.slice(1)].every(isDigit);
}

function validUserinfo(s: string): boolean {
  for (const r of s) {
    if (isAlpha(r) || isDigit(r)) continue;
    if (!"-._:~!$&'()*+,;=%@".includes(r)) return false;
  }
  return true;
}

/** Go's `unescape`: validates %-escapes (and, for hosts, the allowed characters) and decodes. */
function unescape(s: string, mode: Mode): string {
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        throw new Error(`invalid URL escape "${s.slice(i, i + 3)}"`);
      }
      const escaped = s.slice(i, i + 3);
      const byte = parseInt(s.slice(i + 1, i + 3), 16);
      // In the host component %-encoding is only for non-ASCII bytes, except %25 (RFC 6874 zones).
      if (mode === 'host' && byte < 0x80 && escaped !== '%25') throw new Error(`invalid URL escape "${escaped}"`);
      if (mode === 'zone' && escaped !== '%25' && byte !== 0x20 && shouldEscape(String.fromCharCode(byte), 'host')) {
        throw new Error(`invalid URL escape "${escaped}"`);
      }
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c.charCodeAt(0) < 0x80 && shouldEscape(c, mode)) {
      throw new Error(`invalid character "${c}" in host name`);
    }
    i++;
  }
  try {
    return decodeURIComponent(s);
  } catch {
    // Go keeps arbitrary (non UTF-8) bytes; the decoded text is not used for any decision here.
    return s;
  }
}

/** Go's `shouldEscape`, restricted to the modes used by `unescape` for host validation. */
function shouldEscape(c: string, mode: 'host' | 'zone'): boolean {
  if (isAlpha(c) || isDigit(c)) return false;
  if ((mode === 'host' || mode === 'zone') && "!$&'()*+,;=:[]<>\"".includes(c)) return false;
  if ('-_.~'.includes(c)) return false;
  // '/', '?', '@' and everything else must be escaped in a host.
  return true;
}

function containsCtlByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function countOf(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}

function isAlpha(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isHex(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
