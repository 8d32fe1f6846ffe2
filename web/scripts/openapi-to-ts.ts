// TypeScript types from the `components.schemas` of an OpenAPI 3.1 document: the JSON Schema
// subset that utoipa emits for sealdesk-proto. A pure function, so that the drift test
// (shared/protocol/generated.test.ts) runs exactly what `npm run gen:types` runs.
//
// Mapping: objects become interfaces (a property is optional unless `required`), `type`
// arrays with "null" become `| null`, arrays `T[]`, string/number enums unions of literals,
// `oneOf`/`anyOf` unions (tagged enums give discriminated unions: their tag is a one-value
// enum), `allOf` intersections, `$ref` the referenced name, integer and number `number`, and
// a schema without a type `unknown`. A `oneOf` whose members are all titled one-value enums
// (the WebSocket close codes) also gets a constant object of its values keyed by title.
// Keywords that would change the type and are not handled here fail the generation rather
// than being ignored.

export const HEADER = "// generated from docs/openapi.json by web/scripts/gen-types.ts; do not edit.\n";

type Schema = Record<string, unknown>;

/** Keywords that only annotate or constrain values, never the TypeScript type. */
const ANNOTATIONS = new Set([
  "description", "title", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
  "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
  "default", "example", "examples", "deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType",
]);
/** Keywords that shape the type, all handled below. */
const STRUCTURAL = new Set([
  "$ref", "type", "enum", "const", "oneOf", "anyOf", "allOf", "properties", "required", "additionalProperties",
  "propertyNames", "items",
]);

const REF_PREFIX = "#/components/schemas/";
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

class Generator {
  constructor(private readonly names: ReadonlySet<string>) {}

  /** One exported declaration (or two, for titled constants) per component. */
  declaration(name: string, schema: Schema): string {
    const doc = jsdoc(description(schema), "");
    const path = name;
    if (isPlainObject(schema)) {
      return `${doc}export interface ${name} ${this.objectBody(schema, "", path)}\n`;
    }
    const members = alternatives(schema);
    if (members !== undefined && members.length > 1) {
      // One member a line; an intersection is parenthesised for the reader (not for tsc).
      const lines = members.map((m, i) => {
        const t = this.typed(m, "    ", `${path}.oneOf[${i}]`);
        return `  | ${t.kind === "atom" ? t.text : `(${t.text})`}`;
      });
      return `${doc}export type ${name} =\n${lines.join("\n")};\n${this.titledConstants(name, schema)}`;
    }
    return `${doc}export type ${name} = ${this.type(schema, "", path)};\n`;
  }

  /** `export const CloseCode = { NORMAL: 1000, … } as const` for a oneOf of titled constants. */
  private titledConstants(name: string, schema: Schema): string {
    const members = asArray(schema.oneOf);
    if (members === undefined || members.length === 0) return "";
    const entries: string[] = [];
    for (const m of members) {
      const member = m as Schema;
      const values = asArray(member.enum);
      if (typeof member.title !== "string" || values === undefined || values.length !== 1) return "";
      entries.push(`${jsdoc(description(member), "  ")}  ${propertyKey(member.title)}: ${literal(values[0])},`);
    }
    return `export const ${name} = {\n${entries.join("\n")}\n} as const;\n`;
  }

  /** The TypeScript type of a schema, as source text. */
  type(schema: unknown, indent: string, path: string): string {
    return this.typed(schema, indent, path).text;
  }

  /** The type with its precedence, so that operands are parenthesised only where needed. */
  private typed(schema: unknown, indent: string, path: string): Typed {
    if (typeof schema === "boolean") return atom(schema ? "unknown" : "never");
    if (!isSchema(schema)) throw new Error(`${path}: a schema must be an object`);
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !STRUCTURAL.has(keyword)) {
        throw new Error(`${path}: unsupported keyword \`${keyword}\``);
      }
    }
    const parts: Typed[] = [];
    if (schema.$ref !== undefined) parts.push(atom(this.ref(schema.$ref, path)));
    if (schema.const !== undefined) parts.push(atom(literal(schema.const)));
    const options = alternatives(schema);
    if (options !== undefined) parts.push(union(options.map((o, i) => this.typed(o, indent, `${path}.oneOf[${i}]`))));
    const all = asArray(schema.allOf);
    if (all !== undefined) parts.push(...all.map((a, i) => this.typed(a, indent, `${path}.allOf[${i}]`)));
    const enumValues = asArray(schema.enum);
    if (enumValues !== undefined) {
      parts.push(union(enumValues.map((v) => atom(literal(v)))));
    } else if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as unknown[]) : [schema.type];
      parts.push(union(types.map((t) => this.primitive(t, schema, indent, path))));
    } else if (schema.properties !== undefined || schema.additionalProperties !== undefined) {
      parts.push(this.primitive("object", schema, indent, path));
    }
    if (parts.length === 0) return atom("unknown");
    return intersection(parts);
  }

  private primitive(type: unknown, schema: Schema, indent: string, path: string): Typed {
    switch (type) {
      case "string":
        return atom("string");
      case "integer":
      case "number":
        return atom("number");
      case "boolean":
        return atom("boolean");
      case "null":
        return atom("null");
      case "array":
        return atom(schema.items === undefined ? "unknown[]" : `${operand(this.typed(schema.items, indent, `${path}.items`), "atom")}[]`);
      case "object":
        return this.objectType(schema, indent, path);
      default:
        throw new Error(`${path}: unsupported type ${JSON.stringify(type)}`);
    }
  }

  private objectType(schema: Schema, indent: string, path: string): Typed {
    const hasProperties = isSchema(schema.properties) && Object.keys(schema.properties).length > 0;
    const extra = schema.additionalProperties;
    let map: Typed | undefined;
    if (extra === undefined || extra === true) map = hasProperties ? undefined : atom("Record<string, unknown>");
    else if (extra !== false) map = atom(`Record<string, ${this.type(extra, indent, `${path}.additionalProperties`)}>`);
    if (!hasProperties) return map ?? atom("Record<string, never>");
    const body = atom(this.objectBody(schema, indent, path));
    return map === undefined ? body : intersection([body, map]);
  }

  /** `{ … }` with one documented line per property; a union's tag comes first. */
  private objectBody(schema: Schema, indent: string, path: string): string {
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    const required = new Set((asArray(schema.required) ?? []).map(String));
    for (const r of required) {
      if (!(r in properties)) throw new Error(`${path}: required property \`${r}\` is not defined`);
    }
    const names = Object.keys(properties);
    const isTag = (n: string): boolean => required.has(n) && asArray((properties[n] as Schema).enum)?.length === 1;
    const ordered = [...names.filter(isTag), ...names.filter((n) => !isTag(n))];
    const inner = `${indent}  `;
    const lines = ordered.map((n) => {
      const sub = properties[n];
      const doc = jsdoc(isSchema(sub) ? description(sub) : undefined, inner);
      const optional = required.has(n) ? "" : "?";
      return `${doc}${inner}${propertyKey(n)}${optional}: ${this.type(sub, inner, `${path}.${n}`)};`;
    });
    return `{\n${lines.join("\n")}\n${indent}}`;
  }

  private ref(ref: unknown, path: string): string {
    if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX)) throw new Error(`${path}: unsupported $ref ${String(ref)}`);
    const name = ref.slice(REF_PREFIX.length);
    if (!this.names.has(name)) throw new Error(`${path}: $ref to unknown schema ${name}`);
    return name;
  }
}

/** Generates the whole module from an OpenAPI document (parsed JSON). Deterministic. */
export function generateTypes(document: unknown): string {
  const schemas = isSchema(document) && isSchema(document.components) ? document.components.schemas : undefined;
  if (!isSchema(schemas)) throw new Error("the document has no components.schemas");
  const names = Object.keys(schemas).sort();
  for (const n of names) {
    if (!IDENTIFIER.test(n)) throw new Error(`schema name ${JSON.stringify(n)} is not a TypeScript identifier`);
  }
  const generator = new Generator(new Set(names));
  const declarations = names.map((n) => {
    const schema = schemas[n];
    if (!isSchema(schema)) throw new Error(`${n}: a schema must be an object`);
    return generator.declaration(n, schema);
  });
  return `${HEADER}// The wire types of sealdesk-proto, REST bodies and WebSocket frames alike.\n\n${declarations.join("\n")}`;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** An object schema with properties and nothing that would make it other than an interface. */
function isPlainObject(schema: Schema): boolean {
  return schema.type === "object" && isSchema(schema.properties) && Object.keys(schema.properties).length > 0
    && (schema.additionalProperties === undefined || schema.additionalProperties === false)
    && schema.oneOf === undefined && schema.anyOf === undefined && schema.allOf === undefined && schema.$ref === undefined;
}

function alternatives(schema: Schema): unknown[] | undefined {
  return asArray(schema.oneOf) ?? asArray(schema.anyOf);
}

/** A property's description; utoipa puts an optional `$ref`'s inside the non-null member. */
function description(schema: Schema): string | undefined {
  if (typeof schema.description === "string") return schema.description;
  const members = alternatives(schema);
  if (members?.length === 2 && members.some((m) => isSchema(m) && m.type === "null")) {
    const other = members.find((m) => isSchema(m) && m.type !== "null");
    if (isSchema(other) && typeof other.description === "string") return other.description;
  }
  return undefined;
}

function jsdoc(text: string | undefined, indent: string): string {
  if (text === undefined || text.trim() === "") return "";
  const lines = text.trim().replaceAll("*/", "*\\/").split("\n");
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)).join("\n")}\n${indent} */\n`;
}

function literal(value: unknown): string {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return JSON.stringify(value);
  throw new Error(`unsupported enum value ${JSON.stringify(value)}`);
}

function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** Source text and how tightly it binds: `A | B` is looser than `A & B`, looser than `A`. */
interface Typed {
  text: string;
  kind: "or" | "and" | "atom";
}

function atom(text: string): Typed {
  return { text, kind: "atom" };
}

/** The text of `t` as an operand of an operator binding like `context` (parenthesised if looser). */
function operand(t: Typed, context: "and" | "atom"): string {
  const looser = t.kind === "or" || (t.kind === "and" && context === "atom");
  return looser ? `(${t.text})` : t.text;
}

/** A union without duplicates, `null` last. */
function union(types: Typed[]): Typed {
  const texts = [...new Set(types.map((t) => t.text))];
  const ordered = [...texts.filter((t) => t !== "null"), ...texts.filter((t) => t === "null")];
  if (ordered.length === 0) return atom("never");
  if (ordered.length === 1) return types.find((t) => t.text === ordered[0]) as Typed;
  // Members of a union never need parentheses: `&` binds tighter than `|`.
  return { text: ordered.join(" | "), kind: "or" };
}

function intersection(types: Typed[]): Typed {
  if (types.length === 1) return types[0] as Typed;
  return { text: types.map((t) => operand(t, "and")).join(" & "), kind: "and" };
}
