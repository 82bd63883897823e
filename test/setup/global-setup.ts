import { ensureTestSlides } from './fixtures';

export default async function globalSetup(): Promise<void> {
  ensureTestSlides();
}
