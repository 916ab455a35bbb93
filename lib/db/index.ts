export * from "./client";
export * from "./copy";
export * from "./keys";
export * from "./migrate-postgres";
export * from "./url";
