import type { FeatureSchema } from "./types";
import { classOf, type DictValue, dictGet, dictStrKeys, globalPath, isSeq, type ObjValue, stringList, strText, type Value } from "./values";

/** A schema with nothing known, for reports that never reached STOP. */
export function emptySchema(): FeatureSchema {
  return { keys: null, catCols: null, numCols: null, modelClass: null, finalEstimator: null, pipelineSteps: null };
}

const PIPELINES: ReadonlySet<string> = new Set(["sklearn.pipeline.Pipeline"]);

function className(value: Value | undefined): string | null {
  if (value?.k !== "obj") return null;
  const cls = classOf(value);
  return cls ? globalPath(cls) : null;
}

/** An estimator's attribute as its BUILD states (dict updates, last wins) or constructor would set it. */
function attribute(obj: ObjValue, name: string, positional: number): Value | undefined {
  for (let i = obj.states.length - 1; i >= 0; i--) {
    const state = obj.states[i] as Value;
    // sklearn's __setstate__ takes a dict; a (dict, slots) pair is the generic object form.
    const dict = state.k === "dict" ? state : state.k === "tuple" && state.items[0]?.k === "dict" ? state.items[0] : null;
    const found = dict ? dictGet(dict, name) : undefined;
    if (found !== undefined) return found;
  }
  if (obj.via === "call" && obj.args && isSeq(obj.args)) return obj.args.items[positional];
  return undefined;
}

function pipelineSteps(model: ObjValue): { steps: string[] | null; last: Value | undefined } {
  const steps = attribute(model, "steps", 0);
  if (!steps || !isSeq(steps)) return { steps: null, last: undefined };
  const names: string[] = [];
  let last: Value | undefined;
  for (const step of steps.items) {
    if (!isSeq(step) || step.items.length < 2 || step.items[0]?.k !== "str") return { steps: null, last: undefined };
    names.push(strText(step.items[0]));
    last = step.items[1];
  }
  return { steps: names, last };
}

/**
 * Reads the feature contract from the symbolic root object: {"model": ..., "cat_cols": [...],
 * "num_cols": [...]} as saved by the training job, or a bare estimator. Pure.
 */
export function extractSchema(root: Value): FeatureSchema {
  const schema = emptySchema();
  let model: Value | undefined = root;
  if (root.k === "dict") {
    const payload: DictValue = root;
    schema.keys = dictStrKeys(payload);
    schema.catCols = stringList(dictGet(payload, "cat_cols"));
    schema.numCols = stringList(dictGet(payload, "num_cols"));
    model = dictGet(payload, "model");
  }
  if (model?.k !== "obj") return schema;
  schema.modelClass = className(model);
  if (schema.modelClass && PIPELINES.has(schema.modelClass)) {
    const { steps, last } = pipelineSteps(model);
    schema.pipelineSteps = steps;
    schema.finalEstimator = className(last);
  } else {
    schema.finalEstimator = schema.modelClass;
  }
  return schema;
}

function listDiff(name: string, candidate: string[] | null, production: string[] | null): string | null {
  if (candidate === null && production === null) return `neither model declares ${name}`;
  if (candidate === null) return `the candidate does not declare ${name}`;
  if (production === null) return `production does not declare ${name}`;
  const prod = new Set(production);
  const cand = new Set(candidate);
  const missing = production.filter((c) => !cand.has(c));
  const extra = candidate.filter((c) => !prod.has(c));
  if (missing.length === 0 && extra.length === 0) return null;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing [${missing.join(", ")}]`);
  if (extra.length > 0) parts.push(`extra [${extra.join(", ")}]`);
  return `${name} differ: ${parts.join(", ")}`;
}

/**
 * Whether a candidate expects the same input columns as production. Pure. Columns are compared
 * as sets (ColumnTransformer selects by name, so order does not change what the model reads).
 */
export function compareSchemas(candidate: FeatureSchema, production: FeatureSchema): { matches: boolean; detail: string } {
  const problems = [
    listDiff("cat_cols", candidate.catCols, production.catCols),
    listDiff("num_cols", candidate.numCols, production.numCols),
  ].filter((p): p is string => p !== null);
  if (problems.length > 0) return { matches: false, detail: `${problems.join("; ")}.` };
  const cat = candidate.catCols?.length ?? 0;
  const num = candidate.numCols?.length ?? 0;
  return { matches: true, detail: `Same features: ${cat} categorical and ${num} numeric columns.` };
}
