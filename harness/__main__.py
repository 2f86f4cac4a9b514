from harness.cli import main

if __name__ == "__main__":  # guard: vLLM and multiprocessing re-import __main__ in child processes
    main()
