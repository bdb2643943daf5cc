import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: TwimlElement[];
}

/** Parses TwiML strictly; throws when it is not well-formed XML. */
export function parseTwiml(xml: string): TwimlElement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    trimValues: false,
    parseTagValue: false,
    parseAttributeValue: false,
  });
  const doc = parser.parse(xml) as Record<string, unknown>[];
  const convert = (node: Record<string, unknown>): TwimlElement | undefined => {
    const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text' && k !== '?xml');
    if (!name) return undefined;
    const content = node[name] as Record<string, unknown>[];
    const children = content.map(convert).filter((c): c is TwimlElement => c !== undefined);
    const text = content
      .filter((c) => '#text' in c)
      .map((c) => String(c['#text']))
      .join('');
    return { name, attributes: (node[':@'] as Record<string, string>) ?? {}, text, children };
  };
  const root = doc.map(convert).find((e) => e !== undefined);
  if (!root || root.name !== 'Response') throw new Error('no <Response> root');
  return root;
}

export function find(root: TwimlElement, name: string): TwimlElement | undefined {
  for (const child of root.children) {
    if (child.name === name) return child;
    const nested = find(child, name);
    if (nested) return nested;
  }
  return undefined;
}

export function streamUrl(xml: string): string | undefined {
  const root = parseTwiml(xml);
  return find(root, 'Stream')?.attributes.url;
}
