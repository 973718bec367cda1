import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { KubeObject } from '../analysis/manifest';

/** Parses YAML (or JSON) text with any number of documents; `List` objects are flattened. */
export function parseManifests(text: string, source = 'input'): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: not valid YAML: ${doc.errors[0].message}`);
    }
    const value = doc.toJS() as unknown;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (item && typeof item === 'object') {
        const o = item as KubeObject;
        if (o.kind === 'List' && Array.isArray(o.items)) {
          out.push(...(o.items as KubeObject[]));
        } else {
          out.push(o);
        }
      }
    }
  }
  return out;
}

/** Reads manifests from files and directories (recursively: .yaml, .yml, .json), in a stable order. */
export function readManifestFiles(paths: readonly string[]): KubeObject[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        walk(path.join(p, entry));
      }
    } else if (/\.(ya?ml|json)$/i.test(p) || paths.includes(p)) {
      files.push(p);
    }
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) {
      throw new Error(`no such file or directory: ${p}`);
    }
    walk(p);
  }
  return files.flatMap(f => parseManifests(fs.readFileSync(f, 'utf8'), f));
}
