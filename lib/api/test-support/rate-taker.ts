import { closeDbs, databaseTarget, openDatabase } from "@/lib/db";
import { RateLimiter } from "../rate-limit";

// A replica's rate limiter in a process of its own, for lib/api/rate-limit.test.ts: opens the database that
// REGISTRY_DATABASE_URL names, fires `count` takes for one key at once, and prints how many were allowed.
const [key, count, limit, now] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [string, number, number, number];
const limiter = new RateLimiter(openDatabase(databaseTarget("/nonexistent")), limit);
const taken = await Promise.all(Array.from({ length: count }, () => limiter.take(key, now)));
console.log(JSON.stringify({ allowed: taken.filter((t) => t.ok).length }));
await closeDbs();
