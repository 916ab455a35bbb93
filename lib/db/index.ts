export * from "./client";
export * from "./keys";
export * from "./migrate-postgres";
export * from "./url";
