import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  appType: "spa",
  // Outside the example's folder, with the project's other installed files.
  cacheDir: fileURLToPath(new URL("../../node_modules/.vite-example", import.meta.url)),
  // Bundled at start, not on the first page load (which would then reload the page).
  optimizeDeps: { include: ["@apollo/client", "rxjs"] },
});
