import { buildDist, ensureTestModels, ensureTestSlides } from './fixtures';

export default async function globalSetup(): Promise<void> {
  buildDist();
  ensureTestSlides();
  ensureTestModels();
}
