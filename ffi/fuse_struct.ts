// Fixed-layout little-endian C structs, declared once as an ordered list of
// fields. Offsets follow from the field sizes: the kernel's FUSE structs have
// no implicit padding (every field is naturally aligned and padding is an
// explicit field), and `struct` refuses a declaration where that would not
// hold, so a declaration is the header's struct read top to bottom.
//
// A struct is used through a view: an object whose properties read and write
// the fields in place at an offset of a DataView. Decoding a request or
// encoding a reply therefore allocates nothing; the FUSE dispatcher keeps one
// view per struct and points it at each request (or at its reply buffer).

const EMPTY = new DataView(new ArrayBuffer(0));

/** One field kind: its size and alignment, and how it becomes a property. */
export interface Field<T> {
  readonly size: number;
  readonly align: number;
  /** Define the property `name` for a field at byte offset `off` on a view prototype. */
  install(proto: object, name: string, off: number): void;
  /** Type carrier only (never set). */
  readonly __value?: T;
}

/** Bytes the kernel reserves: part of the layout, not a property. */
export interface Pad extends Field<never> {
  readonly pad: true;
}

export type Layout = Record<string, Field<unknown>>;

/** The decoded fields of a layout: one property per non-padding field. */
export type Fields<L extends Layout> = {
  -readonly [K in keyof L as L[K] extends Pad ? never : K]: L[K] extends Field<infer T> ? T
    : never;
};

/** A view over one struct in a DataView. */
export class View {
  v: DataView = EMPTY;
  o = 0;
  /** The struct's size in bytes (set on each struct's prototype). */
  declare readonly structSize: number;
  /** The field names in declaration order, padding excluded (set on each struct's prototype). */
  declare readonly fieldNames: readonly string[];

  /** Point this view at byte `o` of `v`; returns the view. */
  at(v: DataView, o: number): this {
    this.v = v;
    this.o = o;
    return this;
  }

  /** Zero every byte of the struct, padding and unused fields included. */
  clear(): this {
    const v = this.v, end = this.o + this.structSize;
    let p = this.o;
    for (; p + 4 <= end; p += 4) v.setUint32(p, 0);
    for (; p < end; p++) v.setUint8(p, 0);
    return this;
  }

  /** The fields as a plain object (nested structs too); for tests and messages. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const self = this as unknown as Record<string, unknown>;
    for (const k of this.fieldNames) {
      const x = self[k];
      out[k] = x instanceof View ? x.toObject() : x;
    }
    return out;
  }
}

export type ViewOf<L extends Layout> = View & Fields<L> & { assign(x: Partial<Fields<L>>): void };

/** A declared struct: a view constructor that is also a field kind (for nesting). */
export interface Struct<L extends Layout> extends Field<ViewOf<L>> {
  new (): ViewOf<L>;
  readonly structName: string;
  /** Byte offset of a field from the start of the struct. */
  offsetOf(field: keyof L & string): number;
  /** True when a body of `len` bytes holds all of `field` (older kernels send shorter structs). */
  covers(field: keyof L & string, len: number): boolean;
}

/** The decoded fields of a declared struct. */
export type FieldsOf<S> = S extends Struct<infer L> ? Fields<L> : never;

/** Declare a struct from its fields in order (as in the C header). */
export function struct<L extends Layout>(name: string, layout: L): Struct<L> {
  class StructView extends View {
    assign(x: Record<string, unknown>): void {
      Object.assign(this, x); // goes through the field setters
    }
  }
  const offsets = new Map<string, number>();
  const names: string[] = [];
  let off = 0;
  let align = 1;
  for (const [field, kind] of Object.entries(layout)) {
    if (field in StructView.prototype || field === "v" || field === "o") {
      throw new Error(`${name}.${field}: the name is taken by the view itself`);
    }
    if (off % kind.align !== 0) {
      throw new Error(`${name}.${field}: offset ${off} is not ${kind.align}-byte aligned`);
    }
    offsets.set(field, off);
    if (!("pad" in kind)) names.push(field);
    kind.install(StructView.prototype, field, off);
    off += kind.size;
    align = Math.max(align, kind.align);
  }
  if (off % align !== 0) throw new Error(`${name}: size ${off} needs trailing padding`);
  const size = off;
  Object.defineProperty(StructView.prototype, "structSize", { value: size });
  Object.defineProperty(StructView.prototype, "fieldNames", { value: names });
  const offsetOf = (field: string): number => {
    const o = offsets.get(field);
    if (o === undefined) throw new Error(`${name} has no field ${field}`);
    return o;
  };
  return Object.assign(StructView, {
    structName: name,
    size,
    align,
    offsetOf,
    covers: (field: string, len: number) => offsetOf(field) + layout[field].size <= len,
    install(proto: object, field: string, at: number) {
      const child = Symbol(field);
      Object.defineProperty(proto, field, {
        get(this: View & { [child]?: View }) {
          return (this[child] ??= new StructView()).at(this.v, this.o + at);
        },
      });
    },
  }) as unknown as Struct<L>;
}

/** A field's accessors on a view: one typed DataView call each, at a fixed offset. */
interface Accessors<T> {
  get(this: View): T;
  set(this: View, x: T): void;
}

/**
 * A field kind of `size` bytes, naturally aligned. `at(off)` makes the
 * accessors of a field at byte offset `off`: each kind writes its own (rather
 * than sharing one generic getter) so every property access compiles to a
 * single typed DataView call.
 */
function scalar<T>(size: number, at: (off: number) => Accessors<T>): Field<T> {
  return {
    size,
    align: size,
    install(proto, name, off) {
      Object.defineProperty(proto, name, at(off));
    },
  };
}

export const u16: Field<number> = scalar(2, (off) => ({
  get() {
    return this.v.getUint16(this.o + off, true);
  },
  set(x) {
    this.v.setUint16(this.o + off, x, true);
  },
}));

export const u32: Field<number> = scalar(4, (off) => ({
  get() {
    return this.v.getUint32(this.o + off, true);
  },
  set(x) {
    this.v.setUint32(this.o + off, x >>> 0, true);
  },
}));

export const i32: Field<number> = scalar(4, (off) => ({
  get() {
    return this.v.getInt32(this.o + off, true);
  },
  set(x) {
    this.v.setInt32(this.o + off, x, true);
  },
}));

const TWO32 = 0x1_0000_0000;

/**
 * An unsigned 64-bit field as a number: inode numbers, handles, offsets and
 * sizes stay below 2^53 here, and a number avoids a BigInt per access.
 */
export const u64: Field<number> = scalar(8, (off) => ({
  get() {
    return this.v.getUint32(this.o + off, true) + this.v.getUint32(this.o + off + 4, true) * TWO32;
  },
  set(x) {
    this.v.setUint32(this.o + off, x >>> 0, true);
    this.v.setUint32(this.o + off + 4, Math.floor(x / TWO32) >>> 0, true);
  },
}));

/** A signed 64-bit field as a number (|x| < 2^53). */
export const i64: Field<number> = scalar(8, (off) => ({
  get() {
    return this.v.getUint32(this.o + off, true) + this.v.getInt32(this.o + off + 4, true) * TWO32;
  },
  set(x) {
    this.v.setUint32(this.o + off, x >>> 0, true);
    this.v.setInt32(this.o + off + 4, Math.floor(x / TWO32), true);
  },
}));

/** An unsigned 64-bit field that needs all 64 bits (request ids). */
export const u64n: Field<bigint> = scalar(8, (off) => ({
  get() {
    return this.v.getBigUint64(this.o + off, true);
  },
  set(x) {
    this.v.setBigUint64(this.o + off, x, true);
  },
}));

/** `bytes` reserved bytes (padding, unused arrays). */
export function pad(bytes: number): Pad {
  return { size: bytes, align: 1, pad: true, install() {} };
}
