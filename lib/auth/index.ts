export * from "./accounts";
export * from "./lifecycle";
export * from "./proxy";
export * from "./roles";
