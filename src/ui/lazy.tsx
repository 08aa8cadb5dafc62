import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A component whose code is a chunk of its own, loaded the first time it renders (nothing shows
 * until then): what a page shows only on the user's action stays out of the bytes its first
 * paint waits for. Without preact/compat's lazy, whose import changes how every element renders.
 */
export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loading: Promise<ComponentType<P>> | undefined;
  let loaded: ComponentType<P> | undefined;
  return function Lazy(props: P) {
    const [Component, setComponent] = useState<ComponentType<P> | undefined>(() => loaded);
    useEffect(() => {
      if (Component) return;
      let mounted = true;
      loading ??= load().then((component) => (loaded = component));
      void loading.then((component) => mounted && setComponent(() => component));
      return () => {
        mounted = false;
      };
    }, []);
    return Component ? <Component {...props} /> : null;
  };
}
