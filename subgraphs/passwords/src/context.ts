import type { HubContext } from "@hub/kit";
import type { PasswordLoaders } from "./store/loaders.js";
import type { PasswordRepository } from "./store/password-repository.js";
import type { PasswordService } from "./store/password-service.js";

export interface PasswordsContext extends HubContext {
  loaders: PasswordLoaders;
  passwords: PasswordRepository;
  service: PasswordService;
}
